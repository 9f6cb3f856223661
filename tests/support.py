"""Test helpers: a fixed clock, settings on scratch files, the app on a real port."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx
import uvicorn
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings

# Monday 23 November 2026, 10:00 in Jakarta: inside contact hours for every demo debtor.
FIXED_NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return FIXED_NOW


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_settings(tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "TAGIH_ENV": "test",
        "TAGIH_DATABASE_URL": f"sqlite:///{tmp / 'tagih.db'}",
        "TAGIH_ACTION_TOKEN": SecretStr("test-action-token"),
        "TAGIH_RASA_TRACKER_DB": tmp / "rasa-tracker.db",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type, call-arg]


class AppServer:
    """The FastAPI app under uvicorn in a background thread, on a real port."""

    def __init__(self, app: object, port: int) -> None:
        self.port = port
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> AppServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("app server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class LiveStack:
    app_url: str
    rasa_url: str
    settings: Settings
    session_factory: sessionmaker[Session]

    def say(self, sender: str, message: str) -> list[dict]:
        response = httpx.post(
            f"{self.app_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
        )
        assert response.status_code == 200, response.text
        return response.json()


