"""Scheduler at scale on PostgreSQL: planning over many accounts, and dispatch against the rate limit.

    .venv/bin/python -m bench.plan_nudges [--accounts 1000000] [--dispatch 2000]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

Works in a fresh schema that it drops afterwards. Generates debtors and accounts server-side
(generate_series) across WIB/WITA/WIT with due dates spread over 70 days, then measures:
planning (wall time, nudges planned, the process's peak memory), a second planning run (nothing new),
dispatch of ``--dispatch`` due nudges through the rules gate into queued messages, and sending those
messages through the outbox to a local fake Graph API with the WhatsApp rate limit (default 80/s).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
from pydantic import SecretStr
from sqlalchemy import func, select, text, update

from bot.db.models import Nudge
from bot.db.session import make_engine, make_session_factory, migrate
from bot.domain.contact_rules import INDONESIA
from bot.messaging.outbox import Outbox, OutboxPolicy
from bot.messaging.ratelimit import KeyedBuckets
from bot.outreach.dispatch import Dispatcher
from bot.outreach.ladder import active_ladder
from bot.outreach.planner import run_plan
from channels.whatsapp import WhatsAppChannel, WhatsAppConfig
from tests.fakes.graph_api import FakeGraphAPI

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)  # Monday 10:00 WIB


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(factory, accounts: int) -> float:
    start = time.perf_counter()
    with factory.begin() as session:
        session.execute(
            text(
                """
                INSERT INTO debtors (id, name, phone, language, timezone, birth_date, created_at, updated_at)
                SELECT i, 'Debitur ' || i, '+62812' || lpad(i::text, 8, '0'), 'id',
                       (ARRAY['Asia/Jakarta', 'Asia/Makassar', 'Asia/Jayapura', 'Asia/Jakarta'])[1 + i % 4],
                       DATE '1990-01-01', now(), now()
                FROM generate_series(1, :n) AS i
                """
            ),
            {"n": accounts},
        )
        session.execute(
            text(
                """
                INSERT INTO accounts (id, ref, debtor_id, currency, amount_due, fees, due_date, status,
                                      created_at, updated_at)
                SELECT i, 'BENCH-' || i, i, 'IDR', 150000000, 0, DATE '2026-11-23' + (10 - i % 70), 'active',
                       now(), now()
                FROM generate_series(1, :n) AS i
                """
            ),
            {"n": accounts},
        )
    with factory() as session:
        session.execute(text("ANALYZE debtors")).close()
        session.execute(text("ANALYZE accounts")).close()
    return time.perf_counter() - start


async def no_trigger(sender: str, intent: str, entities: dict) -> list:
    return []


async def dispatch_and_send(factory, count: int, rate: float) -> dict[str, float]:
    with factory.begin() as session:  # only ``count`` nudges are due now; the rest wait
        due = select(Nudge.id).order_by(Nudge.id).limit(count).scalar_subquery()
        session.execute(update(Nudge).where(Nudge.id.not_in(due)).values(not_before=NOW + timedelta(days=365)))
    dispatcher = Dispatcher(
        factory,
        ladder=active_ladder,
        profile=INDONESIA,
        channels=("whatsapp",),
        trigger=no_trigger,
        company_name="Tagih Finance",
        worker="bench",
    )
    start = time.perf_counter()
    report = await dispatcher.run_once(NOW)
    dispatch_seconds = time.perf_counter() - start
    with FakeGraphAPI() as graph:
        config = WhatsAppConfig(SecretStr("t"), SecretStr("s"), SecretStr("v"), "1", api_base_url=graph.base_url)
        channel = WhatsAppChannel(config)
        buckets = KeyedBuckets(rate)

        async def limit(_: str) -> None:
            await buckets.acquire("1")

        outbox = Outbox(factory, {"whatsapp": channel}, policy=OutboxPolicy(), limiters={"whatsapp": limit})
        for message_id in report.message_ids:
            outbox.submit([message_id])
        workers = [asyncio.create_task(outbox.worker()) for _ in range(8)]
        start = time.perf_counter()
        await outbox.queue.join()
        send_seconds = time.perf_counter() - start
        for worker in workers:
            worker.cancel()
        await channel.aclose()
        received = len(graph.requests)
    return {
        "dispatched": len(report.sent),
        "deferred": len(report.deferred),
        "skipped": len(report.skipped),
        "dispatch_seconds": dispatch_seconds,
        "received": received,
        "send_seconds": send_seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--dispatch", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=80.0, help="WhatsApp messages per second")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    schema = f"tagih_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{args.database_url}{'&' if '?' in args.database_url else '?'}options=-csearch_path%3D{schema}"
    try:
        migrate(url)
        factory = make_session_factory(make_engine(url))
        print(f"generated {args.accounts:,} debtors and accounts in {generate(factory, args.accounts):.1f}s")
        before = peak_mb()
        start = time.perf_counter()
        report = run_plan(factory, NOW)
        seconds = time.perf_counter() - start
        print(f"planning: {report.planned:,} nudges in {seconds:.1f}s {dict(sorted(report.stages.items()))}")
        print(f"peak memory of this process: {before:.0f} MB before planning, {peak_mb():.0f} MB after")
        start = time.perf_counter()
        again = run_plan(factory, NOW)
        print(f"planning again: {again.planned} new nudges in {time.perf_counter() - start:.1f}s")
        with factory() as session:
            total = session.scalar(select(func.count(Nudge.id)))
        print(f"nudges table: {total:,} rows")
        result = asyncio.run(dispatch_and_send(factory, args.dispatch, args.rate))
        print(
            f"dispatch: {result['dispatched']} sent, {result['deferred']} deferred, {result['skipped']} skipped "
            f"in {result['dispatch_seconds']:.1f}s ({result['dispatched'] / result['dispatch_seconds']:.0f}/s)"
        )
        print(
            f"sending at a limit of {args.rate:.0f}/s: {result['received']} reached the fake Graph API in "
            f"{result['send_seconds']:.1f}s ({result['received'] / result['send_seconds']:.1f}/s)"
        )
    finally:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return 0


if __name__ == "__main__":
    sys.exit(main())
