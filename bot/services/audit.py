"""Audit trail: every state change the bot or a person makes is written here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.db.models import AuditLog


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str | None = None,
    entity_id: object | None = None,
    conversation_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    entry = AuditLog(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        conversation_id=conversation_id,
        details=details,
    )
    session.add(entry)
    return entry
