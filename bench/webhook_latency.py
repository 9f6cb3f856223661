"""Per-turn latency and throughput: our web chat webhook versus Rasa's own REST channel.

Starts the app (uvicorn, own process) and the Rasa server on the current model with a scratch
database, then drives the same scripted conversations through both paths with 20 concurrent
conversations. Both paths run the same custom actions (Rasa calls the app for them), so the
difference is what the app adds: storing every message, routing, and one more HTTP hop.

    .venv/bin/python -m bench.webhook_latency [--conversations 20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench._stack import RASA_TOKEN, percentile, running_stack
from bot.db.session import make_engine, make_session_factory, migrate
from bot.services.accounts import load_demo_if_empty

SCRIPT = [
    ("halo", None),
    ("berapa tagihan saya?", None),
    ("DEMO-1002", None),
    ("03-09-1992", None),
    ("bayarnya kemana ya?", None),
    ("makasih", None),
]


async def drive(
    url: str, conversations: int, rounds: int, prefix: str, headers: dict[str, str] | None = None
) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=conversations * 2)
    async with httpx.AsyncClient(timeout=120, limits=limits, headers=headers) as client:

        async def conversation(index: int) -> None:
            nonlocal errors
            for round_ in range(rounds):
                sender = f"{prefix}-{index}-{round_}-{uuid.uuid4().hex[:6]}"
                for text, _ in SCRIPT:
                    start = time.perf_counter()
                    response = await client.post(url, json={"sender": sender, "message": text})
                    latencies.append(time.perf_counter() - start)
                    if response.status_code != 200:
                        errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(conversation(i) for i in range(conversations)))
        elapsed = time.perf_counter() - start
    return latencies, elapsed, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="tagih-bench-"))
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    migrate(db_url)
    load_demo_if_empty(make_session_factory(make_engine(db_url)))
    results: dict[str, dict] = {}
    with running_stack(tmp, db_url, app_port=8765, rasa_port=5765) as (app_url, rasa_url):
        ours = f"{app_url}/webhooks/rest/webhook"
        theirs = f"{rasa_url}/webhooks/tagih/webhook"  # Rasa's REST contract behind the token
        bearer = {"rasa": {"Authorization": f"Bearer {RASA_TOKEN}"}, "tagih": None}
        asyncio.run(drive(ours, 4, 1, "warm-a"))
        asyncio.run(drive(theirs, 4, 1, "warm-b", bearer["rasa"]))
        # Interleave the two paths so drift (caches, tracker size) affects both alike.
        for label, url in (("rasa", theirs), ("tagih", ours), ("rasa", theirs), ("tagih", ours)):
            lat, elapsed, errors = asyncio.run(
                drive(url, args.conversations, max(1, args.rounds // 2), label, bearer[label])
            )
            acc = results.setdefault(label, {"lat": [], "elapsed": 0.0, "errors": 0})
            acc["lat"] += lat
            acc["elapsed"] += elapsed
            acc["errors"] += errors

    print("| path | messages | errors | p50 ms | p95 ms | messages/s |")
    print("|---|---|---|---|---|---|")
    summary = {}
    for label in ("rasa", "tagih"):
        acc = results[label]
        lat = acc["lat"]
        p50, p95 = percentile(lat, 50) * 1000, percentile(lat, 95) * 1000
        rate = len(lat) / acc["elapsed"]
        summary[label] = (p50, p95, rate)
        name = "Rasa REST contract directly" if label == "rasa" else "Tagih /webhooks/rest/webhook"
        print(f"| {name} | {len(lat)} | {acc['errors']} | {p50:.0f} | {p95:.0f} | {rate:.1f} |")
    overhead = (summary["tagih"][0] / summary["rasa"][0] - 1) * 100
    print(
        f"\nOverhead at p50: {overhead:+.1f}% (target: at most +15%); "
        f"throughput through Tagih: {summary['tagih'][2]:.1f} msg/s (target: at least 25); "
        f"mean latency via Tagih {statistics.mean(results['tagih']['lat']) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
