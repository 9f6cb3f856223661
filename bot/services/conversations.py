"""Conversations and their messages, across channels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Conversation, Message

# Receipts can arrive out of order; a later state never goes back to an earlier one.
_STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}


def rasa_sender_id(channel: str, sender_id: str) -> str:
    """The id Rasa tracks this conversation under; channel-qualified so ids never collide."""
    return f"{channel}:{sender_id}"


def get_or_create_conversation(
    session: Session, *, channel: str, sender_id: str, language: str | None = None
) -> tuple[Conversation, bool]:
    conversation = session.scalar(
        select(Conversation).where(Conversation.channel == channel, Conversation.sender_id == sender_id)
    )
    if conversation is not None:
        return conversation, False
    conversation = Conversation(
        channel=channel,
        sender_id=sender_id,
        rasa_sender_id=rasa_sender_id(channel, sender_id),
        language=language,
    )
    try:
        with session.begin_nested():  # another worker may create the same conversation right now
            session.add(conversation)
            session.flush()
    except IntegrityError:
        existing = session.scalar(
            select(Conversation).where(Conversation.channel == channel, Conversation.sender_id == sender_id)
        )
        if existing is None:
            raise
        return existing, False
    return conversation, True


def conversation_for_rasa_sender(session: Session, rasa_sender: str) -> Conversation | None:
    return session.scalar(select(Conversation).where(Conversation.rasa_sender_id == rasa_sender))


def record_inbound(
    session: Session,
    conversation: Conversation,
    *,
    text: str,
    channel_message_id: str | None = None,
    payload: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Message:
    now = now or datetime.now(timezone.utc)
    message = Message(
        conversation_id=conversation.id,
        direction="in",
        channel=conversation.channel,
        author="debtor",
        text=text,
        payload=payload,
        channel_message_id=channel_message_id,
        delivery_status="received",
    )
    conversation.last_inbound_at = now
    session.add(message)
    session.flush()
    return message


def record_outbound(
    session: Session,
    conversation: Conversation,
    replies: Sequence[Mapping[str, Any]],
    *,
    author: str = "bot",
    delivery_status: str = "sent",
) -> list[Message]:
    """Store bot/agent replies exactly as the channel will render them (text plus buttons)."""
    messages = []
    for reply in replies:
        extra = {k: v for k, v in reply.items() if k not in ("text", "recipient_id")}
        message = Message(
            conversation_id=conversation.id,
            direction="out",
            channel=conversation.channel,
            author=author,
            text=reply.get("text"),
            payload=extra or None,
            delivery_status=delivery_status,
        )
        session.add(message)
        messages.append(message)
    session.flush()
    return messages


def advance_status(row: Message, status: str) -> bool:
    """Move an outbound row's delivery state forward (receipts can arrive out of order; a later
    state never goes back to an earlier one). Returns whether it changed."""
    if _STATUS_RANK.get(status, 0) > _STATUS_RANK.get(row.delivery_status or "queued", 0):
        row.delivery_status = status
        return True
    return False
