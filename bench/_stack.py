"""Starts the app (uvicorn, own process) and a Rasa server on the current model for benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bot.dialogue.model import current_model
from bot.dialogue.rasa_server import RasaServer
from bot.settings import PROJECT_ROOT, get_settings

TOKEN = "bench-action-token"
RASA_TOKEN = "bench-rasa-token"  # the bare-Rasa side of a benchmark presents it as a bearer token


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def running_stack(
    tmp: Path, db_url: str, *, app_port: int, rasa_port: int, env: dict[str, str] | None = None
) -> Iterator[tuple[str, str]]:
    """Yield (app URL, Rasa URL) with both servers up; stop both afterwards."""
    settings = get_settings()
    model = current_model(settings.models_dir)
    if model is None:
        raise SystemExit("no model for the current training data: run 'make model' first")
    app_env = {
        **os.environ,
        "TAGIH_DATABASE_URL": db_url,
        "TAGIH_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "TAGIH_ACTION_TOKEN": TOKEN,
        "TAGIH_RASA_TOKEN": RASA_TOKEN,
        "TAGIH_SECRET_KEY": "bench-secret-key-not-for-production",
        # every simulated debtor comes from this machine's address: no web chat rate limit here
        "TAGIH_WEBCHAT_SENDER_PER_MINUTE": "0",
        "TAGIH_WEBCHAT_ADDRESS_PER_MINUTE": "0",
        # and the bench's debtors answer the identity check with a date of birth alone
        "TAGIH_IDENTITY_SECOND_FACTOR": "off",
        "TAGIH_ENV": "test",
        "TAGIH_SCHEDULER": "false",
        **(env or {}),
    }
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bot.web.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(app_port),
            "--log-level",
            "warning",
            "--ws",
            "none",
        ],
        cwd=PROJECT_ROOT,
        env=app_env,
    )
    rasa = RasaServer(
        rasa_bin=settings.rasa_bin,
        model=model,
        port=rasa_port,
        action_url=f"http://127.0.0.1:{app_port}/actions/webhook",
        action_token=TOKEN,
        rasa_token=RASA_TOKEN,
        tracker_db=tmp / "tracker.db",
        log_file=tmp / "rasa.log",
    )
    try:
        wait_http(f"http://127.0.0.1:{app_port}/health")
        rasa.start()
        rasa.wait_ready()
        yield f"http://127.0.0.1:{app_port}", rasa.url
    finally:
        rasa.stop()
        app.terminate()
        app.wait(10)
