"""Waiting debtors get one acknowledgment: soon (working hours) or from when (outside them)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.db.models import Conversation, Handoff, Message
from bot.domain.contact_rules import INDONESIA
from bot.outreach.acknowledge import acknowledge_waiting

MONDAY_10 = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)  # 10:00 WIB
MONDAY_21 = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)  # 21:00 WIB


def waiting(factory, accounts, *, channel="whatsapp", created, status="open", language="id") -> int:
    ref = accounts.add(due=date(2026, 11, 20), language=language)
    with factory.begin() as session:
        account = accounts.get(session, ref)
        conversation = Conversation(
            channel=channel,
            sender_id=f"{channel}-{ref}",
            rasa_sender_id=f"{channel}:{ref}",
            debtor_id=account.debtor_id,
            account_id=account.id,
            status="agent",
            language=language,
        )
        session.add(conversation)
        session.flush()
        handoff = Handoff(
            conversation_id=conversation.id,
            account_id=account.id,
            reason="request_human",
            status=status,
            created_at=created,
        )
        session.add(handoff)
        session.flush()
        return handoff.id


def run(factory, now):
    with factory.begin() as session:
        return acknowledge_waiting(
            session,
            now=now,
            after=timedelta(minutes=10),
            profile=INDONESIA,
            company_name="Tagih Finance",
            default_tz="Asia/Jakarta",
        )


def texts(factory) -> list[str]:
    with factory() as session:
        return [m.text for m in session.scalars(select(Message).order_by(Message.id))]


def test_inside_hours_says_soon_once(factory, accounts):
    waiting(factory, accounts, created=MONDAY_10 - timedelta(minutes=11))
    assert len(run(factory, MONDAY_10)) == 1
    assert texts(factory) == ["Terima kasih sudah menunggu. Petugas Tagih Finance akan segera membalas di sini."]
    assert run(factory, MONDAY_10 + timedelta(minutes=5)) == [], "only once"


def test_outside_hours_says_from_when(factory, accounts):
    waiting(factory, accounts, created=MONDAY_21 - timedelta(minutes=30), language="en")
    run(factory, MONDAY_21)
    assert texts(factory) == [
        "Tagih Finance staff are outside working hours now. We will reply from Tuesday 24 November, 08:00."
    ]


@pytest.mark.parametrize("channel", ["web", "whatsapp", "telegram"])
def test_every_channel_is_acknowledged(factory, accounts, channel):
    """A web chat debtor waits like any other: the page shows the notice (or shows it when it opens)."""
    waiting(factory, accounts, channel=channel, created=MONDAY_10 - timedelta(minutes=30))
    ((message_id, _),) = run(factory, MONDAY_10)
    with factory() as session:
        message = session.get(Message, message_id)
        assert message.channel == channel and message.delivery_status == "queued"


@pytest.mark.parametrize(("channel", "status", "minutes"), [("whatsapp", "claimed", 30), ("whatsapp", "open", 5)])
def test_not_acknowledged(factory, accounts, channel, status, minutes):
    waiting(factory, accounts, channel=channel, status=status, created=MONDAY_10 - timedelta(minutes=minutes))
    assert run(factory, MONDAY_10) == []
