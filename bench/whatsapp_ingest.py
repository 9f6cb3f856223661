"""WhatsApp ingestion under load: 1,000 signed deliveries from 50 concurrent senders.

Starts a fake Graph API, the app (own process, WhatsApp aimed at the fake) and the Rasa server,
posts signed text messages, and reports the acknowledgement latency (p50/p95) and the time until
every reply reached the fake API, checking that no message was lost or handled twice.

    .venv/bin/python -m bench.whatsapp_ingest [--messages 1000] [--senders 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench._stack import percentile, running_stack
from bot.db.models import Message
from bot.db.session import make_engine, make_session_factory, migrate
from bot.services.accounts import load_demo_if_empty
from channels.whatsapp import signature
from tests.fakes.graph_api import FakeGraphAPI
from tests.support import WHATSAPP_APP_SECRET, WHATSAPP_PHONE_NUMBER_ID, whatsapp_message

TEXTS = ["halo", "berapa tagihan saya?", "bayarnya kemana?", "makasih", "sy bayar tgl 28", "lunas", "iya"]


async def post_all(url: str, messages: int, senders: int) -> tuple[list[float], float, int]:
    per_sender = messages // senders
    latencies: list[float] = []
    retries: list[int] = []
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=senders)) as client:

        async def sender(index: int) -> None:
            phone = f"+62899{index:07d}"
            for n in range(per_sender):
                text = TEXTS[n % len(TEXTS)]
                body = json.dumps(
                    whatsapp_message(phone, {"type": "text", "text": {"body": text}}, wamid=f"wamid.B{index}x{n}")
                ).encode()
                headers = {
                    "content-type": "application/json",
                    "X-Hub-Signature-256": signature(body, WHATSAPP_APP_SECRET),
                }
                for attempt in range(5):
                    start = time.perf_counter()
                    try:
                        response = await client.post(url, content=body, headers=headers)
                    except httpx.TransportError:
                        # like Meta, redeliver when the connection broke (a reused keep-alive
                        # connection the server had just closed); duplicates are recognised
                        retries.append(attempt)
                        continue
                    latencies.append(time.perf_counter() - start)
                    response.raise_for_status()
                    break
                else:
                    raise RuntimeError(f"delivery {index}/{n} failed five times")

        start = time.perf_counter()
        await asyncio.gather(*(sender(i) for i in range(senders)))
        return latencies, time.perf_counter() - start, len(retries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=50)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tagih-wa-bench-"))
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    migrate(db_url)
    factory = make_session_factory(make_engine(db_url))
    load_demo_if_empty(factory)
    total = (args.messages // args.senders) * args.senders
    with FakeGraphAPI() as graph:
        env = {
            "WHATSAPP_ACCESS_TOKEN": "bench-token",
            "WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": "bench",
            "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_NUMBER_ID,
            "WHATSAPP_API_BASE_URL": graph.base_url,
        }
        with running_stack(tmp, db_url, app_port=8766, rasa_port=5766, env=env) as (app_url, _):
            start = time.perf_counter()
            latencies, posting, redelivered = asyncio.run(
                post_all(f"{app_url}/webhooks/whatsapp", args.messages, args.senders)
            )
            deadline = time.monotonic() + 1800
            while time.monotonic() < deadline:
                with factory() as session:
                    done = session.scalar(
                        select(func.count(Message.id)).where(
                            Message.direction == "in", Message.processed_at.is_not(None)
                        )
                    )
                    queued = session.scalar(select(func.count(Message.id)).where(Message.delivery_status == "queued"))
                if done >= total and queued == 0:
                    break
                time.sleep(0.5)
            all_replied = time.perf_counter() - start
        with factory() as session:
            stored = session.scalar(select(func.count(Message.id)).where(Message.direction == "in"))
            processed = session.scalar(
                select(func.count(Message.id)).where(Message.direction == "in", Message.processed_at.is_not(None))
            )
            replies = session.scalar(select(func.count(Message.id)).where(Message.direction == "out"))
            sent = session.scalar(select(func.count(Message.id)).where(Message.delivery_status == "sent"))
        received = len(graph.requests)
    print(f"deliveries posted: {total} from {args.senders} senders in {posting:.1f}s ({redelivered} redelivered)")
    print(
        f"acknowledgement latency: p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.0f} ms"
    )
    print(f"stored {stored}, processed {processed} (lost: {total - processed}, duplicated: {max(0, stored - total)})")
    print(f"replies queued {replies}, sent {sent}, received by the fake Graph API {received}")
    print(f"time until every reply reached the fake API: {all_replied:.1f}s")
    return 0 if processed == total and sent == replies == received else 1


if __name__ == "__main__":
    sys.exit(main())
