"""One inbound pipeline for every channel: the same message from a web chat page, WhatsApp and
Telegram is handled by the same ``InboundProcessor.process`` and leaves the same records behind
(real Rasa model, real app, fake WhatsApp and Telegram platforms)."""

from __future__ import annotations

import random
import re

import httpx
import pytest
from sqlalchemy import select

from bot.db.models import Conversation, Handoff, Message
from bot.messaging.processor import InboundProcessor
from bot.web.chat_session import COOKIE
from tests.messaging.conftest import next_id, post_telegram
from tests.messaging.test_whatsapp_round_trip import say as say_on_whatsapp
from tests.support import telegram_update, wait_until

pytestmark = pytest.mark.rasa

TEXT = "sy mau bicara sama petugas aja"


def records(stack, channel: str, sender_id: str) -> dict:
    with stack.session_factory() as session:
        conversation = session.scalar(
            select(Conversation).where(Conversation.channel == channel, Conversation.sender_id == sender_id)
        )
        if conversation is None:
            return {}
        messages = list(
            session.scalars(select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id))
        )
        handoff = session.scalar(select(Handoff).where(Handoff.conversation_id == conversation.id))
        return {
            "inbound": [(m.id, m.text, m.processed_at is not None) for m in messages if m.direction == "in"],
            "replies": [(m.author, m.text, m.delivery_status) for m in messages if m.direction == "out"],
            "handoff": handoff.reason if handoff else None,
            "status": conversation.status,
            "language": conversation.language,
        }


def test_the_same_turn_goes_through_the_same_code_on_every_channel(live_stack, graph_api, bot_api, monkeypatch):
    processed: list[int] = []
    original = InboundProcessor.process

    async def watched(self: InboundProcessor, message_id: int) -> list[int]:
        processed.append(message_id)
        return await original(self, message_id)

    monkeypatch.setattr(InboundProcessor, "process", watched)

    with httpx.Client(base_url=live_stack.app_url, timeout=60) as browser:
        browser.get("/chat")
        answer = browser.post("/chat/api/messages", json={"text": TEXT, "client_id": f"same-turn-{next_id()}"})
        assert answer.status_code == 200, answer.text
        page = str(browser.cookies[COOKIE]).split(".")[0]
    phone = f"+62813{random.randint(10_000_000, 99_999_999)}"  # a number nobody has on file
    say_on_whatsapp(live_stack, phone, TEXT)
    chat = next_id()
    assert post_telegram(live_stack, telegram_update(next_id(), chat, text=TEXT)).status_code == 200

    senders = {"web": page, "whatsapp": phone, "telegram": str(chat)}
    seen = {
        channel: wait_until(lambda c=channel, s=sender: (r := records(live_stack, c, s)) and r["replies"] and r)
        for channel, sender in senders.items()
    }
    for channel, record in seen.items():
        ((message_id, text, done),) = record["inbound"]
        assert text == TEXT and done, channel
        assert message_id in processed, f"{channel}: handled by InboundProcessor.process"
        assert record["handoff"] == "request_human" and record["status"] == "agent", channel
        assert record["language"] == "id", channel
    replies = {
        channel: [re.sub(r"H\d{6}", "H######", text) for _, text, _ in record["replies"]]  # each has its ticket
        for channel, record in seen.items()
    }
    assert replies["web"] == replies["whatsapp"] == replies["telegram"], "the same answer on every channel"
    assert "petugas" in replies["web"][0].lower()
    wait_until(lambda: all(s == "sent" for _, _, s in records(live_stack, "whatsapp", senders["whatsapp"])["replies"]))
    wait_until(lambda: all(s == "sent" for _, _, s in records(live_stack, "telegram", senders["telegram"])["replies"]))
    assert {s for _, _, s in seen["web"]["replies"]} == {"sent"}, "handed over in the turn's answer"
