"""Test helpers: a fixed clock, settings on scratch files, the app on a real port."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Account
from bot.settings import Settings

# Monday 23 November 2026, 10:00 in Jakarta: inside contact hours for every demo debtor.
FIXED_NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return FIXED_NOW


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


TEST_ACTION_TOKEN = "test-action-token"
TEST_RASA_TOKEN = "test-rasa-token"


def make_settings(tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "TAGIH_ENV": "test",
        "TAGIH_DATABASE_URL": f"sqlite:///{tmp / 'tagih.db'}",
        "TAGIH_ACTION_TOKEN": SecretStr(TEST_ACTION_TOKEN),
        "TAGIH_RASA_TOKEN": SecretStr(TEST_RASA_TOKEN),
        "TAGIH_SECRET_KEY": SecretStr("test-secret-key"),
        "TAGIH_RASA_TRACKER_DB": tmp / "rasa-tracker.db",
        # A port nobody listens on unless the test starts Rasa there: a bot the developer is running
        # on the default 127.0.0.1:5005 must never answer (or upset) a test.
        "TAGIH_RASA_URL": f"http://127.0.0.1:{(rasa_port := free_port())}",
        "TAGIH_RASA_PORT": rasa_port,
        "TAGIH_SCHEDULER": False,  # tests drive the scheduler explicitly, with a fixed clock
        # Every test writes from 127.0.0.1 and the live stack lasts the whole session, far beyond a
        # human's rate; tests/security/test_rate_limits.py sets its own limits.
        "TAGIH_WEBCHAT_SENDER_PER_MINUTE": 60_000,
        "TAGIH_WEBCHAT_ADDRESS_PER_MINUTE": 600_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type, call-arg]


WHATSAPP_APP_SECRET = "test-app-secret"
WHATSAPP_VERIFY_TOKEN = "test-verify-token"
WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
TELEGRAM_TOKEN = "123456:TEST-token"
TELEGRAM_SECRET = "test-telegram-secret"


def channel_settings(graph_base_url: str, bot_base_url: str) -> dict[str, object]:
    """Settings that switch WhatsApp and Telegram on, aimed at local fake platform servers."""
    return {
        "WHATSAPP_ACCESS_TOKEN": SecretStr("test-access-token"),
        "WHATSAPP_APP_SECRET": SecretStr(WHATSAPP_APP_SECRET),
        "WHATSAPP_VERIFY_TOKEN": SecretStr(WHATSAPP_VERIFY_TOKEN),
        "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_NUMBER_ID,
        "WHATSAPP_API_BASE_URL": graph_base_url,
        "TELEGRAM_BOT_TOKEN": SecretStr(TELEGRAM_TOKEN),
        "TELEGRAM_WEBHOOK_SECRET": SecretStr(TELEGRAM_SECRET),
        "TELEGRAM_API_BASE_URL": bot_base_url,
        "TAGIH_SEND_BACKOFF_SECONDS": 0.05,
    }


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
    graph_api: Any = None  # the fake WhatsApp Cloud API the app sends to (identity codes among others)
    rasa_pid: int | None = None

    def say(self, sender: str, message: str, *, address: str | None = None) -> list[dict]:
        """One web chat turn. ``address``: a loopback address to send from (127.0.0.2 and so on), so
        a test's wrong identity answers count against an address of its own."""
        transport = httpx.HTTPTransport(local_address=address) if address else None
        with httpx.Client(transport=transport, timeout=60) as client:
            response = client.post(f"{self.app_url}/webhooks/rest/webhook", json={"sender": sender, "message": message})
        assert response.status_code == 200, response.text
        return response.json()

    def sent_code(self, phone: str, *, after: int = 0) -> str:
        """The newest identity code sent to ``phone`` on WhatsApp (after the first ``after`` requests)."""
        for request in reversed(self.graph_api.requests[after:]):
            body = request["json"]
            template = body.get("template") or {}
            if (
                body.get("to") == phone.lstrip("+")
                and template.get("name") == self.settings.whatsapp_code_template_name
            ):
                return template["components"][0]["parameters"][0]["text"]
        raise AssertionError(f"no identity code was sent to {phone}")

    def identify(
        self, sender: str, ref: str, birth: str, *, phone: str | None = None, address: str | None = None
    ) -> list[dict]:
        """Answer the identity check (the bot has just asked for the account number): reference, date
        of birth and, when the bot says it sent one, the code from the debtor's WhatsApp."""
        self.say(sender, ref, address=address)
        before = len(self.graph_api.requests) if self.graph_api is not None else 0
        replies = self.say(sender, birth, address=address)
        text = " ".join(r.get("text") or "" for r in replies)
        if "kode verifikasi" in text or "verification code" in text:
            if phone is None:
                with self.session_factory() as session:
                    phone = session.scalar(select(Account).where(Account.ref == ref)).debtor.phone
            assert phone is not None
            replies = self.say(sender, self.sent_code(phone, after=before), address=address)
        return replies


def wait_until(predicate: object, *, seconds: float = 30.0, interval: float = 0.1) -> object:
    """Poll until ``predicate()`` is truthy (background processing); return its value."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()  # type: ignore[operator]
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {seconds}s")
        time.sleep(interval)


def whatsapp_message(phone: str, body: dict, *, wamid: str, timestamp: int = 1795399200) -> dict:
    """A WhatsApp Cloud API webhook delivery carrying one message (shape as Meta documents it)."""
    digits = phone.lstrip("+")
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": WHATSAPP_PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Debtor"}, "wa_id": digits}],
                            "messages": [{"from": digits, "id": wamid, "timestamp": str(timestamp), **body}],
                        },
                    }
                ],
            }
        ],
    }


def whatsapp_status(recipient: str, wamid: str, status: str, *, error: dict | None = None) -> dict:
    item: dict = {
        "id": wamid,
        "status": status,
        "timestamp": "1795399300",
        "recipient_id": recipient.lstrip("+"),
    }
    if error:
        item["errors"] = [error]
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": WHATSAPP_PHONE_NUMBER_ID,
                            },
                            "statuses": [item],
                        },
                    }
                ],
            }
        ],
    }


def telegram_update(update_id: int, chat_id: int, *, text: str | None = None, **extra: object) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Debitur", "language_code": "id"}
    message: dict = {
        "message_id": update_id % 100000,
        "from": user,
        "chat": {"id": chat_id, "first_name": "Debitur", "type": "private"},
        "date": 1795399200,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/start"):
            message["entities"] = [{"offset": 0, "length": 6, "type": "bot_command"}]
    message.update(extra)
    return {"update_id": update_id, "message": message}


def telegram_callback(update_id: int, chat_id: int, data: str) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Debitur"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "from": user,
            "chat_instance": "-1234567890",
            "data": data,
            "message": {
                "message_id": 5,
                "from": {"id": 123456, "is_bot": True, "first_name": "Tagih"},
                "chat": {"id": chat_id, "first_name": "Debitur", "type": "private"},
                "date": 1795399100,
                "text": "Halo",
            },
        },
    }
