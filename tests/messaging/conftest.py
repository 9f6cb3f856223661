"""Helpers for channel round trips: signed WhatsApp posts, Telegram posts (fresh debtors: tests/conftest.py)."""

from __future__ import annotations

import json
import random

import httpx
from sqlalchemy import select

from bot.db.models import Conversation, Message
from tests.support import TELEGRAM_SECRET, WHATSAPP_APP_SECRET, LiveStack


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
