"""The real app for hostile-input tests: WhatsApp and Telegram switched on and aimed at the local
fake platforms, the dialogue at a fake Rasa that answers, the /api with a key. Plus helpers that
post signed (or forged) deliveries and count what reached the database."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Account, Conversation, InboundRejection, Message, Payment
from bot.db.session import make_engine, make_session_factory, migrate
from bot.settings import Settings
from bot.web.app import create_app
from channels.whatsapp import signature
from tests.fakes.rasa_http import FakeRasaServer
from tests.support import TELEGRAM_SECRET, WHATSAPP_APP_SECRET, channel_settings, fixed_clock, make_settings

API_KEY = "test-api-key-0123456789"
JSON = {"content-type": "application/json"}


@dataclass
class Served:
    client: TestClient
    factory: sessionmaker[Session]
    settings: Settings
    rasa: FakeRasaServer


@contextmanager
def served_app(tmp: Path, graph_api: Any, bot_api: Any, **overrides: object) -> Iterator[Served]:
    with FakeRasaServer() as rasa:
        values: dict[str, object] = {
            "TAGIH_RASA_URL": rasa.base_url,
            "TAGIH_RASA_TIMEOUT": 5,
            "TAGIH_CHANNEL_WORKERS": 1,
            "TAGIH_API_KEYS": API_KEY,
            **channel_settings(graph_api.base_url, bot_api.base_url),
            **overrides,
        }
        settings = make_settings(tmp, **values)
        migrate(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with TestClient(create_app(settings, clock=fixed_clock)) as client:
                yield Served(client, make_session_factory(engine), settings, rasa)
        finally:
            engine.dispose()


def stored(factory: sessionmaker[Session]) -> dict[str, int]:
    """How many rows of each kind an inbound request could have written."""
    with factory() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Conversation, Message, InboundRejection, Account, Payment)
        }


def rejections(factory: sessionmaker[Session], body: bytes) -> list[InboundRejection]:
    """The rejections recorded for this body."""
    digest = hashlib.sha256(body).hexdigest()
    with factory() as session:
        return list(
            session.scalars(
                select(InboundRejection).where(InboundRejection.body_sha256 == digest).order_by(InboundRejection.id)
            )
        )


def post_whatsapp(client: TestClient, body: bytes, *, secret: str | None = WHATSAPP_APP_SECRET) -> Any:
    headers = dict(JSON)
    if secret is not None:
        headers["X-Hub-Signature-256"] = signature(body, secret)
    return client.post("/webhooks/whatsapp", content=body, headers=headers)


def post_telegram(client: TestClient, body: bytes, *, secret: str | None = TELEGRAM_SECRET) -> Any:
    headers = dict(JSON)
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return client.post("/webhooks/telegram", content=body, headers=headers)


def action_call(action: str = "action_ask_balance", sender: str = "web:hostile") -> dict[str, Any]:
    """A call as the Rasa server makes it (rasa_sdk's action-server contract)."""
    return {
        "next_action": action,
        "sender_id": sender,
        "tracker": {
            "sender_id": sender,
            "slots": {"language": "id", "verified": False},
            "latest_message": {"text": "berapa tagihan saya", "intent": {"name": "ask_balance"}, "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": {},
        "version": "3.6.21",
    }
