"""Handing a conversation to people; while a handoff is open the bot stays silent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Conversation, Handoff
from bot.services.audit import audit


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
