"""Helpers for channel round trips: fresh debtors per test, signed WhatsApp posts, Telegram posts."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from bot.db.models import Conversation, Message
from bot.services.accounts import import_account_rows
from tests.support import TELEGRAM_SECRET, WHATSAPP_APP_SECRET, LiveStack

_counter = itertools.count(1)


@dataclass
class Debtor:
    ref: str
    phone: str
    birth: str
    language: str


@pytest.fixture
def new_debtor(live_stack: LiveStack):
    def make(language: str = "id", amount: str = "1750000", due: str = "2026-11-15") -> Debtor:
        n = next(_counter)
        phone = f"+62813{random.randint(10_000_000, 99_999_999)}"
        debtor = Debtor(
            ref=f"CH-{random.randint(10000, 99999)}{n}",
            phone=phone,
            birth="1991-02-0" + str(n % 9 + 1),
            language=language,
        )
        with live_stack.session_factory.begin() as session:
            import_account_rows(
                session,
                [
                    {
                        "account_ref": debtor.ref,
                        "name": f"Debitur {n}",
                        "phone": phone,
                        "language": language,
                        "timezone": "Asia/Jakarta",
                        "currency": "IDR",
                        "amount_due": amount,
                        "due_date": due,
                        "birth_date": debtor.birth,
                    }
                ],
            )
        return debtor

    return make


def post_whatsapp(
    stack: LiveStack, payload: dict | bytes, *, secret: str = WHATSAPP_APP_SECRET, sign: bool = True
) -> httpx.Response:
    from channels.whatsapp import signature

    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    if sign:
        headers["X-Hub-Signature-256"] = signature(body, secret)
    return httpx.post(f"{stack.app_url}/webhooks/whatsapp", content=body, headers=headers, timeout=30)


def post_telegram(stack: LiveStack, update: dict | bytes, *, secret: str | None = TELEGRAM_SECRET) -> httpx.Response:
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return httpx.post(f"{stack.app_url}/webhooks/telegram", content=body, headers=headers, timeout=30)


def outbound(stack: LiveStack, channel: str, sender_id: str) -> list[Message]:
    with stack.session_factory() as session:
        return list(
            session.scalars(
                select(Message)
                .join(Conversation)
                .where(Conversation.channel == channel, Conversation.sender_id == sender_id, Message.direction == "out")
                .order_by(Message.id)
            )
        )


def inbound(stack: LiveStack, channel: str, sender_id: str) -> list[Message]:
    with stack.session_factory() as session:
        return list(
            session.scalars(
                select(Message)
                .join(Conversation)
                .where(Conversation.channel == channel, Conversation.sender_id == sender_id, Message.direction == "in")
                .order_by(Message.id)
            )
        )


def next_id() -> int:
    return random.randint(10**8, 10**9)
