"""How long the current model takes to parse one message, and how much memory the Rasa server holds.

Starts a Rasa server on the model for the current ``nlu/`` (``make model`` first), sends every training
example of ``nlu/data/nlu`` once to warm up, then ``--rounds`` messages one at a time through
``/model/parse``, and prints p50/p95/p99 latency and the server's resident memory. Usage:
``python -m bench.nlu_latency [--rounds 500]``.
"""

from __future__ import annotations

import argparse
import random
import socket
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench._stack import RASA_TOKEN, TOKEN, percentile
from bot.dialogue.model import NLU_DIR, current_model
from bot.dialogue.rasa_server import RasaServer
from bot.dialogue.training import nlu_examples
from bot.settings import get_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--model", type=Path, help="another model file (default: the one for nlu/ as it is)")
    args = parser.parse_args()
    settings = get_settings()
    model = args.model or current_model(settings.models_dir)
    if model is None:
        raise SystemExit("no model for the current training data: run 'make model' first")
    texts = nlu_examples(NLU_DIR / "data" / "nlu")
    tmp = Path(tempfile.mkdtemp(prefix="tagih-nlu-latency-"))
    port = free_port()
    server = RasaServer(
        rasa_bin=settings.rasa_bin,
        model=model,
        port=port,
        action_url="http://127.0.0.1:9/actions/webhook",
        action_token=TOKEN,
        rasa_token=RASA_TOKEN,
        tracker_db=tmp / "tracker.db",
        log_file=tmp / "rasa.log",
    )
    server.start()
    try:
        server.wait_ready()
        assert server.process is not None
        with httpx.Client(base_url=server.url, params={"token": RASA_TOKEN}, timeout=30) as client:
            for text in texts:
                client.post("/model/parse", json={"text": text})
            rng = random.Random(7)
            latencies = []
            for _ in range(args.rounds):
                text = rng.choice(texts)
                started = time.perf_counter()
                response = client.post("/model/parse", json={"text": text})
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()
        memory = resident_mb(server.process.pid)
    finally:
        server.stop()
    print(
        f"model {model.name}: /model/parse over {args.rounds} messages, one at a time: "
        f"p50 {percentile(latencies, 50) * 1000:.1f} ms, p95 {percentile(latencies, 95) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.1f} ms; Rasa server resident memory {memory:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
