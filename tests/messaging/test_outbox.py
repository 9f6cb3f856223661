"""Outbox rules with a scripted in-process channel: window, retries, failures, opt-outs."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import ContactPreference, Conversation, Message
from bot.db.session import make_engine, make_session_factory, migrate
from bot.messaging.inbox import store_delivery
from bot.messaging.outbox import Outbox, OutboxPolicy
from bot.services.conversations import get_or_create_conversation
from channels.base import (
    InboundMessage,
    OutboundMessage,
    OutsideWindowError,
    ParsedDelivery,
    PermanentSendError,
    RateLimitedError,
    RecipientOptedOutError,
    SendResult,
    StatusUpdate,
    TransientSendError,
)

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


class ScriptedChannel:
    name = "whatsapp"

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.sent: list[OutboundMessage] = []

    def verify(self, headers, body) -> None:  # pragma: no cover - not used here
        pass

    def parse(self, body):  # pragma: no cover - not used here
        return ParsedDelivery()

    async def send(self, message: OutboundMessage) -> SendResult:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return SendResult(f"wamid.{len(self.sent)}")

    async def aclose(self) -> None:
        pass


async def no_limit(_: str) -> None:
    return None


@pytest.fixture
def factory(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    migrate(url)
    return make_session_factory(make_engine(url))


def make_outbox(factory, channel: ScriptedChannel, **policy) -> Outbox:
    return Outbox(
        factory,
        {"whatsapp": channel},
        policy=OutboxPolicy(backoff_seconds=0.01, **policy),
        limiters={"whatsapp": no_limit},
        clock=lambda: NOW,
    )


def queue_reply(factory, outbox: Outbox, *, last_inbound: datetime | None, text: str = "Halo") -> int:
    with factory.begin() as session:
        conversation, _ = get_or_create_conversation(session, channel="whatsapp", sender_id="+6281200000001")
        conversation.last_inbound_at = last_inbound
        conversation.language = "id"
        (row,) = outbox.enqueue_sync(
            session, conversation, [{"text": text, "buttons": [{"title": "Ya", "payload": "/affirm"}]}], author="bot"
        )
        return row.id


def message(factory, message_id: int) -> Message:
    with factory() as session:
        return session.get(Message, message_id)


async def run_until_idle(outbox: Outbox, message_id: int) -> None:
    await outbox.send_one(message_id)
    for _ in range(100):
        if outbox.queue.empty():
            await asyncio.sleep(0.03)
            if outbox.queue.empty():
                return
        _, batch = await outbox.queue.get()
        await outbox.send_batch(batch)


async def test_inside_the_window_sends_text_with_buttons(factory):
    channel = ScriptedChannel()
    outbox = make_outbox(factory, channel)
    mid = queue_reply(factory, outbox, last_inbound=NOW - timedelta(hours=1))
    await outbox.send_one(mid)
    assert channel.sent[0].text == "Halo" and channel.sent[0].buttons[0].payload == "/affirm"
    row = message(factory, mid)
    assert row.delivery_status == "sent" and row.channel_message_id == "wamid.1" and row.attempts == 1


async def test_outside_the_window_sends_the_template(factory):
    channel = ScriptedChannel()
    outbox = make_outbox(factory, channel, template_name="tagih_follow_up", company_name="Tagih Finance")
    mid = queue_reply(factory, outbox, last_inbound=NOW - timedelta(hours=25))
    await outbox.send_one(mid)
    template = channel.sent[0].template
    assert template is not None and template.name == "tagih_follow_up" and template.language == "id"
    assert template.parameters == ("Tagih Finance",)


async def test_transient_errors_are_retried_then_succeed(factory):
    channel = ScriptedChannel([TransientSendError("502", code="502"), RateLimitedError("slow", retry_after=0.02)])
    outbox = make_outbox(factory, channel)
    mid = queue_reply(factory, outbox, last_inbound=NOW)
    await run_until_idle(outbox, mid)
    row = message(factory, mid)
    assert row.delivery_status == "sent" and row.attempts == 3


async def test_gives_up_after_the_last_attempt_with_the_platform_error(factory):
    channel = ScriptedChannel([TransientSendError("down", code="131000", title="Something went wrong")] * 3)
    outbox = make_outbox(factory, channel, max_attempts=3)
    mid = queue_reply(factory, outbox, last_inbound=NOW)
    await run_until_idle(outbox, mid)
    row = message(factory, mid)
    assert row.delivery_status == "failed" and row.attempts == 3
    assert row.error == "131000: Something went wrong"


async def test_permanent_error_fails_at_once(factory):
    channel = ScriptedChannel([PermanentSendError("bad", code="131026", title="Message undeliverable")])
    outbox = make_outbox(factory, channel)
    mid = queue_reply(factory, outbox, last_inbound=NOW)
    await run_until_idle(outbox, mid)
    row = message(factory, mid)
    assert row.delivery_status == "failed" and row.attempts == 1 and "131026" in row.error


async def test_outside_window_refusal_falls_back_to_the_template(factory):
    channel = ScriptedChannel([OutsideWindowError("window", code="131047", title="Re-engagement message")])
    outbox = make_outbox(factory, channel)
    mid = queue_reply(factory, outbox, last_inbound=NOW)
    await run_until_idle(outbox, mid)
    assert channel.sent[0].template is not None
    assert message(factory, mid).delivery_status == "sent"


async def test_recipient_opt_out_is_recorded(factory):
    channel = ScriptedChannel([RecipientOptedOutError("blocked", code="131050")])
    outbox = make_outbox(factory, channel)
    mid = queue_reply(factory, outbox, last_inbound=NOW)
    await run_until_idle(outbox, mid)
    with factory() as session:
        pref = session.scalar(select(ContactPreference))
        assert pref.kind == "opt_out" and pref.address == "+6281200000001" and pref.channel == "whatsapp"


class SlowFirstChannel(ScriptedChannel):
    """The first message of a batch takes longest, so parallel workers would overtake it."""

    async def send(self, message: OutboundMessage) -> SendResult:
        await asyncio.sleep(0.05 if message.text.endswith("1") else 0.0)
        return await super().send(message)


async def test_messages_to_one_conversation_keep_their_order_across_workers(factory):
    channel = SlowFirstChannel()
    outbox = make_outbox(factory, channel)
    first = [queue_reply(factory, outbox, last_inbound=NOW, text=f"batch A {i}") for i in (1, 2)]
    second = [queue_reply(factory, outbox, last_inbound=NOW, text=f"batch B {i}") for i in (1, 2)]
    with factory() as session:
        conversation_id = session.get(Message, first[0]).conversation_id
    outbox.submit(first, conversation_id=conversation_id)
    outbox.submit(second, conversation_id=conversation_id)
    workers = [asyncio.create_task(outbox.worker()) for _ in range(4)]
    try:
        await asyncio.wait_for(outbox.queue.join(), 5)
    finally:
        for worker in workers:
            worker.cancel()
    assert [m.text for m in channel.sent] == ["batch A 1", "batch A 2", "batch B 1", "batch B 2"]


def inbound(mid: str, text: str = "halo") -> InboundMessage:
    return InboundMessage(
        channel="whatsapp", sender_id="+6281200000002", message_id=mid, kind="text", timestamp=NOW, text=text
    )


def test_inbox_stores_once_per_platform_id(factory):
    first = store_delivery(
        factory, ParsedDelivery(messages=(inbound("wamid.A"), inbound("wamid.B"))), default_language="id"
    )
    again = store_delivery(factory, ParsedDelivery(messages=(inbound("wamid.A"),)), default_language="id")
    assert len(first.new_message_ids) == 2 and again.new_message_ids == [] and again.duplicates == 1
    with factory() as session:
        conversation = session.scalar(select(Conversation))
        assert conversation.last_inbound_at == NOW and conversation.rasa_sender_id == "whatsapp:+6281200000002"
        assert all(m.processed_at is None for m in session.scalars(select(Message)))


def test_status_receipts_move_forward_only(factory):
    outbox = make_outbox(factory, ScriptedChannel())
    mid = queue_reply(factory, outbox, last_inbound=NOW)
    with factory.begin() as session:
        row = session.get(Message, mid)
        row.delivery_status, row.channel_message_id = "sent", "wamid.X"

    def receipt(status: str) -> ParsedDelivery:
        return ParsedDelivery(statuses=(StatusUpdate("whatsapp", "wamid.X", "+6281200000001", status, NOW),))

    for status in ("read", "delivered"):
        store_delivery(factory, receipt(status), default_language="id")
    assert message(factory, mid).delivery_status == "read"
