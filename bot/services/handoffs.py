"""Handing a conversation to people; while a handoff is open the bot stays silent."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Conversation, Handoff, Message
from bot.services.audit import audit
from bot.services.conversations import record_outbound
from bot.settings import PROJECT_ROOT

NOTICES = PROJECT_ROOT / "bot" / "data" / "handoff_notices.yml"


@lru_cache(maxsize=1)
def _notices() -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = yaml.safe_load(NOTICES.read_text(encoding="utf-8"))
    return loaded


def queue_notice(
    session: Session, conversation: Conversation, kind: str, *, values: dict[str, Any], payload: dict[str, Any]
) -> Message:
    """Queue one of the handoff notices (``waiting``, ``after_hours``, ``handed_back``) in the
    conversation's language, as a system message for the outbox."""
    texts = _notices()[kind]
    text = texts.get(conversation.language or "id", texts["id"]).format_map(values)
    (message,) = record_outbound(
        session, conversation, [{"text": text, **payload}], author="system", delivery_status="queued"
    )
    return message


def open_handoff(session: Session, *, conversation: Conversation, reason: str, note: str | None = None) -> Handoff:
    """Open (or reuse) the conversation's handoff and put the conversation in agent hands."""
    existing = session.scalar(
        select(Handoff).where(Handoff.conversation_id == conversation.id, Handoff.status.in_(("open", "claimed")))
    )
    conversation.status = "agent"
    if existing is not None:
        if note:
            existing.note = f"{existing.note}\n{note}" if existing.note else note
        return existing
    handoff = Handoff(
        conversation_id=conversation.id,
        account_id=conversation.account_id,
        reason=reason,
        note=note,
    )
    session.add(handoff)
    session.flush()
    audit(
        session,
        actor="bot",
        action="handoff.opened",
        entity_type="handoff",
        entity_id=handoff.id,
        conversation_id=conversation.id,
        details={"reason": reason},
    )
    return handoff


def ticket_number(handoff: Handoff) -> str:
    return f"H{handoff.id:06d}"
