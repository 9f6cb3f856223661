"""Debtors waiting for a person are not left in silence: once a handoff has waited longer than the
configured time unclaimed, the debtor gets one acknowledgment, saying a person will answer soon
(inside working hours) or from when (outside them), on whatever channel they wrote on (a web chat
page that is closed shows it when it opens again)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Conversation, Handoff
from bot.domain.contact_rules import ContactProfile
from bot.services.audit import audit
from bot.services.handoffs import queue_notice


def acknowledge_waiting(
    session: Session, *, now: datetime, after: timedelta, profile: ContactProfile, company_name: str, default_tz: str
) -> list[tuple[int, int]]:
    """Queue acknowledgments; returns (message id, conversation id) pairs for the outbox."""
    waiting = session.scalars(
        select(Handoff)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(
            Handoff.status == "open",
            Handoff.acknowledged_at.is_(None),
            Handoff.created_at <= now - after,
        )
    ).all()
    queued: list[tuple[int, int]] = []
    for handoff in waiting:
        conversation = handoff.conversation
        language = conversation.language or "id"
        tz = ZoneInfo(conversation.debtor.timezone if conversation.debtor else default_tz)
        local = now.astimezone(tz)
        values: dict[str, Any] = {"company_name": company_name}
        if profile.closed_reason(local) is None:
            kind = "waiting"
        else:
            kind = "after_hours"
            opens = profile.next_allowed(local)
            values["opens"] = format_datetime(opens, "EEEE d MMMM, HH:mm", locale="id_ID" if language == "id" else "en")
        message = queue_notice(session, conversation, kind, values=values, payload={"handoff_ack": handoff.id})
        handoff.acknowledged_at = now
        audit(
            session,
            actor="scheduler",
            action="handoff.acknowledged",
            entity_type="handoff",
            entity_id=handoff.id,
            conversation_id=conversation.id,
            details={"kind": kind},
        )
        queued.append((message.id, conversation.id))
    return queued
