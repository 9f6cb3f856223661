"""Linking a Telegram chat to a debtor: signed deep links that expire and work once, a shared
contact, and the rule that an existing link is never replaced silently.

Telegram allows 64 characters of ``[A-Za-z0-9_-]`` after /start, so a deep-link token is
``<debtor id>_<expiry unix time>_<24 hex chars of HMAC-SHA256>``; a used token is remembered (by its
hash) so it links at most once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Conversation, Debtor, LinkRequest, UsedLinkToken
from bot.errors import ConflictError, ForbiddenError, NotFoundError
from bot.services.audit import audit
from bot.services.conversations import get_or_create_conversation
from bot.services.identity import link_conversation

_TOKEN = re.compile(r"^(\d{1,12})_(\d{9,11})_([0-9a-f]{24})$")


def _signature(secret: str, debtor_id: int, expires: int) -> str:
    message = f"telegram-link:{debtor_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:24]


def make_link_token(secret: str, debtor_id: int, *, now: datetime, ttl: timedelta) -> str:
    expires = int((now + ttl).timestamp())
    return f"{debtor_id}_{expires}_{_signature(secret, debtor_id, expires)}"


def read_link_token(secret: str, token: str, *, now: datetime) -> int | None:
    """The debtor id, or None for a malformed, forged or expired token."""
    match = _TOKEN.match(token or "")
    if match is None:
        return None
    debtor_id, expires, signature = int(match.group(1)), int(match.group(2)), match.group(3)
    if not hmac.compare_digest(signature, _signature(secret, debtor_id, expires)):
        return None
    if now.timestamp() > expires:
        return None
    return debtor_id


# -- using a link, once, and never silently over another link --------------------------------------


def consume_link_token(session: Session, token: str, *, now: datetime) -> bool:
    """Mark a deep-link token used; False when it was used before (a link works once)."""
    try:
        with session.begin_nested():
            session.add(UsedLinkToken(token_hash=hashlib.sha256(token.encode()).hexdigest(), used_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class Notice:
    """A message to queue in a conversation once the transaction commits."""

    conversation_id: int
    response: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class LinkOutcome:
    linked: bool
    request: LinkRequest | None = None
    notices: list[Notice] = field(default_factory=list)


DECISION = re.compile(r"^link:(approve|reject):(\d{1,12})$")


def link_telegram_chat(
    session: Session, conversation: Conversation, debtor: Debtor, *, how: str, now: datetime
) -> LinkOutcome:
    """Link this Telegram chat to ``debtor``, unless that would replace a link already made (the
    debtor's chat is another one, or this chat belongs to another debtor): then nothing changes and a
    pending request waits for the debtor to confirm through the chat on file, or for an agent."""
    chat = conversation.sender_id
    owner = session.scalar(select(Debtor).where(Debtor.telegram_chat_id == chat))
    if debtor.telegram_chat_id in (None, chat) and owner in (None, debtor):
        debtor.telegram_chat_id = chat
        link_conversation(session, conversation, debtor, how=how, now=now)
        return LinkOutcome(linked=True)
    request = session.scalar(
        select(LinkRequest).where(
            LinkRequest.debtor_id == debtor.id,
            LinkRequest.channel == "telegram",
            LinkRequest.address == chat,
            LinkRequest.status == "pending",
        )
    )
    notices: list[Notice] = []
    if request is None:
        request = LinkRequest(
            debtor_id=debtor.id,
            channel="telegram",
            address=chat,
            previous_address=debtor.telegram_chat_id,
            conversation_id=conversation.id,
            how=how,
            status="pending",
            created_at=now,
        )
        session.add(request)
        session.flush()
        audit(
            session,
            actor="bot",
            action="identity.link_requested",
            entity_type="debtor",
            entity_id=debtor.id,
            conversation_id=conversation.id,
            details={
                "how": how,
                "request": request.id,
                "replaces_chat": debtor.telegram_chat_id is not None,
                "chat_linked_to_another_debtor": owner is not None and owner is not debtor,
            },
        )
        if debtor.telegram_chat_id is not None and owner is None:
            # the debtor can confirm from the chat already on file
            old, _ = get_or_create_conversation(
                session, channel="telegram", sender_id=debtor.telegram_chat_id, language=debtor.language
            )
            values = {"approve": f"link:approve:{request.id}", "reject": f"link:reject:{request.id}"}
            notices.append(Notice(old.id, "utter_link_confirm_request", values))
    notices.append(Notice(conversation.id, "utter_link_pending"))
    return LinkOutcome(linked=False, request=request, notices=notices)


def decide_link_request(
    session: Session, request_id: int, *, approve: bool, by: str, now: datetime, via: Conversation | None = None
) -> LinkOutcome:
    """Approve or refuse a pending link: ``via`` is the debtor's chat on file (the debtor decided
    there), otherwise ``by`` is the agent. A debtor cannot approve taking over a chat that belongs
    to another debtor; that is for an agent."""
    request = session.get(LinkRequest, request_id)
    if request is None:
        raise NotFoundError(f"no link request {request_id}")
    if request.status != "pending":
        raise ConflictError(f"link request {request_id} was already {request.status}")
    debtor = request.debtor
    owner = session.scalar(select(Debtor).where(Debtor.telegram_chat_id == request.address))
    if via is not None:
        if not (via.verified and via.debtor_id == debtor.id and via.sender_id == debtor.telegram_chat_id):
            raise ForbiddenError("only the debtor's own chat on file can decide this request")
        if approve and owner is not None and owner is not debtor:
            raise ForbiddenError("this chat is linked to someone else: an agent has to decide")
    request.status = "approved" if approve else "rejected"
    request.decided_at = now
    request.decided_by = by
    notices: list[Notice] = []
    new_chat = session.get(Conversation, request.conversation_id) if request.conversation_id else None
    if approve:
        if owner is not None and owner is not debtor:
            owner.telegram_chat_id = None
            session.flush()
        debtor.telegram_chat_id = request.address
        session.flush()
        if new_chat is not None:
            link_conversation(session, new_chat, debtor, how=f"link_request:{request.id}", now=now)
            notices.append(Notice(new_chat.id, "utter_telegram_linked"))
        if via is not None:
            notices.append(Notice(via.id, "utter_link_approved"))
    else:
        if new_chat is not None:
            notices.append(Notice(new_chat.id, "utter_link_refused"))
        if via is not None:
            notices.append(Notice(via.id, "utter_link_refused"))
    audit(
        session,
        actor=by,
        action="identity.link_approved" if approve else "identity.link_refused",
        entity_type="debtor",
        entity_id=debtor.id,
        conversation_id=request.conversation_id,
        details={"request": request.id, "by_debtor": via is not None},
    )
    return LinkOutcome(linked=approve, request=request, notices=notices)


def pending_link_requests(session: Session) -> list[LinkRequest]:
    return list(session.scalars(select(LinkRequest).where(LinkRequest.status == "pending").order_by(LinkRequest.id)))
