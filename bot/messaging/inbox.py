"""Persisting what a platform delivered, before acknowledging it.

Each inbound message becomes a ``messages`` row keyed by (channel, platform message id), so a
repeated delivery is recognised and stored once. Delivery receipts update the outbound row.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Conversation, InboundRejection, Message
from bot.services.contact import record_opt_out
from bot.services.conversations import advance_status, get_or_create_conversation
from bot.services.language import guess_language
from channels.base import InboundMessage, ParsedDelivery, StatusUpdate

OUTSIDE_WINDOW = "131047"
USER_STOPPED_MARKETING = "131050"
EXCERPT_BYTES = 2000
MAX_REASON_CHARS = 2000


@dataclass(frozen=True)
class Rejection:
    """Why a verified delivery (or part of it) can never be processed, with the body it came in."""

    channel: str
    reason: str
    body: bytes


@dataclass
class StoredDelivery:
    new_message_ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    duplicate_ids: list[int] = field(default_factory=list)  # the rows stored by the earlier delivery
    resend_ids: list[int] = field(default_factory=list)
    rejection: str | None = None  # why (part of) the delivery was stored as rejected


def _jsonable(message: InboundMessage) -> dict[str, Any]:
    return {
        "kind": message.kind,
        "sender_name": message.sender_name,
        "attachments": [dataclasses.asdict(a) for a in message.attachments],
        "contact_phone": message.contact_phone,
        "start_token": message.start_token,
        "callback_id": message.callback_id,
        "origin": message.origin,
        "raw": dict(message.raw),
    }


def _existing(session: Session, message: InboundMessage) -> int:
    found = session.scalar(
        select(Message.id).where(Message.channel == message.channel, Message.channel_message_id == message.message_id)
    )
    assert found is not None
    return found


def _store_message(session: Session, message: InboundMessage, default_language: str) -> tuple[int, bool]:
    """The row id and whether it is new (False: the same message was delivered before)."""
    conversation, _ = get_or_create_conversation(
        session, channel=message.channel, sender_id=message.sender_id, language=None
    )
    if conversation.language is None:
        # a new conversation answers in the language of its first message, else the client's
        fallback = message.language or default_language
        conversation.language = guess_language(message.text or "", fallback) if message.kind == "text" else fallback
    try:
        with session.begin_nested():
            row = Message(
                conversation_id=conversation.id,
                direction="in",
                channel=message.channel,
                author="debtor",
                text=message.text,
                payload=_jsonable(message),
                channel_message_id=message.message_id,
                delivery_status="received",
            )
            session.add(row)
            session.flush()
    except IntegrityError:
        return _existing(session, message), False
    conversation.last_inbound_at = max(
        filter(None, [conversation.last_inbound_at, message.timestamp]), default=message.timestamp
    )
    return row.id, True


def _apply_status(session: Session, status: StatusUpdate, result: StoredDelivery) -> None:
    row = session.scalar(
        select(Message).where(
            Message.channel == status.channel,
            Message.channel_message_id == status.platform_message_id,
            Message.direction == "out",
        )
    )
    if row is None:
        return
    if status.status == "failed":
        code = status.error_code or ""
        if code == OUTSIDE_WINDOW:
            # Free-form text was refused outside the 24-hour window: send the template instead.
            row.delivery_status = "queued"
            row.payload = {**(row.payload or {}), "force_template": True}
            row.error = f"{code}: {status.error_title or ''}".strip()
            result.resend_ids.append(row.id)
            return
        if code == USER_STOPPED_MARKETING:
            conversation = session.get(Conversation, row.conversation_id)
            assert conversation is not None
            record_opt_out(
                session,
                channel=conversation.channel,
                address=conversation.sender_id,
                debtor_id=conversation.debtor_id,
                source=f"platform:{code}",
                conversation_id=conversation.id,
            )
        row.delivery_status = "failed"
        row.error = f"{code}: {status.error_title or ''}".strip(": ")
        return
    advance_status(row, status.status)


def storable(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with what a database refuses escaped: lone surrogates
    become ``\\udNNN``, NUL becomes ``\\x00``."""
    return text[:limit].encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def excerpt(body: bytes) -> str:
    """The start of a body as text that can always be stored and shown (bytes that are not UTF-8
    become ``\\xNN``; JSON escapes such as ``\\ud800`` are plain ASCII and stay as they are)."""
    return storable(body[:EXCERPT_BYTES].decode("utf-8", "backslashreplace"), EXCERPT_BYTES * 4)


def _store_rejection(session: Session, rejection: Rejection) -> str:
    """One row per distinct body: a platform re-sending the same delivery is not recorded twice.
    Returns the reason as stored."""
    digest = hashlib.sha256(rejection.body).hexdigest()
    reason = storable(rejection.reason, MAX_REASON_CHARS)
    known = session.scalar(
        select(InboundRejection.id).where(
            InboundRejection.channel == rejection.channel, InboundRejection.body_sha256 == digest
        )
    )
    if known is None:
        session.add(
            InboundRejection(
                channel=rejection.channel,
                reason=reason,
                body_sha256=digest,
                body_size=len(rejection.body),
                excerpt=excerpt(rejection.body),
            )
        )
    return reason


def store_delivery(
    session_factory: sessionmaker[Session],
    delivery: ParsedDelivery,
    *,
    default_language: str,
    rejection: Rejection | None = None,
) -> StoredDelivery:
    """Write the whole delivery, and what of it was rejected, in one transaction; the caller
    acknowledges only after this."""
    result = StoredDelivery()
    with session_factory.begin() as session:
        if rejection is not None:
            result.rejection = _store_rejection(session, rejection)
        for message in delivery.messages:
            row_id, new = _store_message(session, message, default_language)
            if new:
                result.new_message_ids.append(row_id)
            else:
                result.duplicates += 1
                result.duplicate_ids.append(row_id)
        for status in delivery.statuses:
            _apply_status(session, status, result)
    return result


def unprocessed_inbound(session_factory: sessionmaker[Session]) -> list[int]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(Message.id).where(Message.direction == "in", Message.processed_at.is_(None)).order_by(Message.id)
            )
        )


def pending_outbound(session_factory: sessionmaker[Session]) -> dict[int, list[int]]:
    """Queued outbound message ids by conversation, each list in the order the messages were written."""
    batches: dict[int, list[int]] = {}
    with session_factory() as session:
        rows = session.execute(
            select(Message.id, Message.conversation_id)
            .where(Message.direction == "out", Message.delivery_status == "queued")
            .order_by(Message.id)
        )
        for message_id, conversation_id in rows:
            batches.setdefault(conversation_id, []).append(message_id)
    return batches


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
