"""Contact preferences: opt-outs per channel (and, later, consents)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Account, ContactPreference, Conversation
from bot.services.audit import audit
from bot.services.segments import next_segment


def record_opt_out(
    session: Session,
    *,
    channel: str,
    address: str,
    debtor_id: int | None,
    source: str,
    conversation_id: int | None = None,
) -> ContactPreference:
    """Idempotent: asking twice keeps one active opt-out."""
    existing = session.scalar(
        select(ContactPreference).where(
            ContactPreference.channel == channel,
            ContactPreference.address == address,
            ContactPreference.kind == "opt_out",
            ContactPreference.revoked_at.is_(None),
        )
    )
    if existing is not None:
        if existing.debtor_id is None and debtor_id is not None:
            existing.debtor_id = debtor_id
        return existing
    preference = ContactPreference(debtor_id=debtor_id, channel=channel, address=address, kind="opt_out", source=source)
    session.add(preference)
    session.flush()
    audit(
        session,
        actor="bot",
        action="contact.opt_out",
        entity_type="contact_preference",
        entity_id=preference.id,
        conversation_id=conversation_id,
        details={"channel": channel},
    )
    return preference


def is_opted_out(session: Session, *, channel: str, address: str) -> bool:
    return (
        session.scalar(
            select(ContactPreference.id).where(
                ContactPreference.channel == channel,
                ContactPreference.address == address,
                ContactPreference.kind == "opt_out",
                ContactPreference.revoked_at.is_(None),
            )
        )
        is not None
    )


def debtor_asked_to_stop(session: Session, conversation: Conversation, account: Account | None) -> ContactPreference:
    """The debtor asked for no more messages on this channel: the opt-out is recorded (the rules gate
    honours it) and the account's segment takes the signal."""
    preference = record_opt_out(
        session,
        channel=conversation.channel,
        address=conversation.sender_id,
        debtor_id=conversation.debtor_id,
        source="debtor_request",
        conversation_id=conversation.id,
    )
    if account is not None:
        account.segment = next_segment(account.segment, "stopped_contact")
    return preference
