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
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bot.db.session import make_engine, make_session_factory, migrate
from bot.dialogue.model import current_model
from bot.dialogue.rasa_server import RasaServer
from bot.services.accounts import load_demo_if_empty
from bot.settings import PROJECT_ROOT, get_settings

SCRIPT = [
    ("halo", None),
    ("berapa tagihan saya?", None),
    ("DEMO-1002", None),
    ("03-09-1992", None),
    ("bayarnya kemana ya?", None),
    ("makasih", None),
]
TOKEN = "bench-action-token"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


async def drive(url: str, conversations: int, rounds: int, prefix: str) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=conversations * 2)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

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


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    settings = get_settings()
    model = current_model(settings.models_dir)
    if model is None:
        print("no model for the current training data: run 'make model' first", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="tagih-bench-"))
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    migrate(db_url)
    load_demo_if_empty(make_session_factory(make_engine(db_url)))
    app_port, rasa_port = 8765, 5765
    env = {
        **os.environ,
        "TAGIH_DATABASE_URL": db_url,
        "TAGIH_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "TAGIH_ACTION_TOKEN": TOKEN,
        "TAGIH_ENV": "test",
    }
    app = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bot.web.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(app_port), "--log-level", "warning", "--ws", "none"],
        cwd=PROJECT_ROOT, env=env,
    )
    rasa = RasaServer(
        rasa_bin=settings.rasa_bin, model=model, port=rasa_port,
        action_url=f"http://127.0.0.1:{app_port}/actions/webhook", action_token=TOKEN,
        tracker_db=tmp / "tracker.db", log_file=tmp / "rasa.log",
    )
    try:
        wait_http(f"http://127.0.0.1:{app_port}/health")
        rasa.start()
        rasa.wait_ready()
        ours = f"http://127.0.0.1:{app_port}/webhooks/rest/webhook"
        theirs = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
        asyncio.run(drive(ours, 4, 1, "warm-a"))
        asyncio.run(drive(theirs, 4, 1, "warm-b"))
        results = {}
        # Interleave the two paths so drift (caches, tracker size) affects both alike.
        for label, url in (("rasa", theirs), ("tagih", ours), ("rasa", theirs), ("tagih", ours)):
            lat, elapsed, errors = asyncio.run(drive(url, args.conversations, max(1, args.rounds // 2), label))
            acc = results.setdefault(label, {"lat": [], "elapsed": 0.0, "errors": 0})
            acc["lat"] += lat
            acc["elapsed"] += elapsed
            acc["errors"] += errors
    finally:
        rasa.stop()
        app.terminate()
        app.wait(10)

    print("| path | messages | errors | p50 ms | p95 ms | messages/s |")
    print("|---|---|---|---|---|---|")
    summary = {}
    for label in ("rasa", "tagih"):
        acc = results[label]
        lat = acc["lat"]
        p50, p95 = percentile(lat, 50) * 1000, percentile(lat, 95) * 1000
        rate = len(lat) / acc["elapsed"]
        summary[label] = (p50, p95, rate)
        name = "Rasa REST channel directly" if label == "rasa" else "Tagih /webhooks/rest/webhook"
        print(f"| {name} | {len(lat)} | {acc['errors']} | {p50:.0f} | {p95:.0f} | {rate:.1f} |")
    overhead = (summary["tagih"][0] / summary["rasa"][0] - 1) * 100
    print(f"\nOverhead at p50: {overhead:+.1f}% (target: at most +15%); "
          f"throughput through Tagih: {summary['tagih'][2]:.1f} msg/s (target: at least 25); "
          f"mean latency via Tagih {statistics.mean(results['tagih']['lat']) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
