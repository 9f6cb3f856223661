"""What the web chat page reads and reports: the conversation so far, delivery receipts and
whether the page is open. Identity answers are stored masked, so the history shows them masked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.models import Conversation, Message
from bot.services.conversations import advance_status

HISTORY_LIMIT = 200  # the newest messages a page shows; older ones stay for agents
PAGE_OPEN_FOR = timedelta(seconds=45)  # a connected page renews this every PAGE_RENEW
PAGE_RENEW = timedelta(seconds=15)
RECEIPTS = ("delivered", "read")
REST_FIELDS = ("buttons", "image", "attachment", "custom")  # what Rasa's REST channel returns besides text


def conversation_of(session: Session, session_id: str) -> Conversation | None:
    return session.scalar(
        select(Conversation).where(Conversation.channel == "web", Conversation.sender_id == session_id)
    )


def with_agent(session: Session, session_id: str) -> bool:
    conversation = conversation_of(session, session_id)
    return conversation is not None and conversation.status != "bot"


def message_view(row: Message) -> dict[str, Any]:
    """A message as the page shows it. A pressed quick reply shows its title, not its payload."""
    payload = row.payload or {}
    text = row.text
    if row.direction == "in" and payload.get("kind") == "button":
        text = (payload.get("raw") or {}).get("title") or text
    return {
        "id": row.id,
        "direction": row.direction,
        "author": row.author,
        "text": text,
        "buttons": list(payload.get("buttons") or []) if row.direction == "out" else [],
        "at": row.created_at.isoformat(),
        "status": row.delivery_status,
    }


def history(session: Session, session_id: str) -> dict[str, Any]:
    """The conversation so far (its newest messages), its language and whether a person has it."""
    conversation = conversation_of(session, session_id)
    if conversation is None:
        return {"language": None, "with_agent": False, "messages": []}
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.delivery_status != "failed")
        .order_by(Message.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    return {
        "language": conversation.language,
        "with_agent": with_agent(session, session_id),
        "messages": [message_view(row) for row in reversed(rows)],
    }


def views(session: Session, message_ids: Sequence[int]) -> list[dict[str, Any]]:
    rows = session.scalars(select(Message).where(Message.id.in_(message_ids)).order_by(Message.id)).all()
    return [message_view(row) for row in rows]


def hand_over(session: Session, message_ids: Sequence[int]) -> None:
    """Replies returned in the answer to the turn that asked for them count as sent."""
    if message_ids:
        session.execute(
            update(Message)
            .where(Message.id.in_(message_ids), Message.delivery_status == "queued")
            .values(delivery_status="sent")
        )


def apply_receipts(session: Session, session_id: str, message_ids: Sequence[int], status: str) -> int:
    """The page showed (``delivered``) or the debtor saw (``read``) these messages. Only the
    session's own outbound messages move, and only forward; returns how many moved."""
    conversation = conversation_of(session, session_id)
    if conversation is None or not message_ids:
        return 0
    rows = session.scalars(
        select(Message).where(
            Message.id.in_(message_ids), Message.conversation_id == conversation.id, Message.direction == "out"
        )
    ).all()
    return sum(advance_status(row, status) for row in rows if row.delivery_status != "failed")


def mark_page(session: Session, session_id: str, *, now: datetime, open_: bool) -> None:
    """Record that a page of the session is open (renewed while it stays connected) or closed."""
    conversation = conversation_of(session, session_id)
    if conversation is not None:
        conversation.page_open_until = now + PAGE_OPEN_FOR if open_ else None


def rest_replies(session: Session, recipient: str, reply_ids: list[int]) -> list[dict[str, Any]]:
    """The replies in Rasa's REST shape, counted as sent (they are in this answer)."""
    hand_over(session, reply_ids)
    rows = session.scalars(select(Message).where(Message.id.in_(reply_ids)).order_by(Message.id)).all()
    replies = []
    for row in rows:
        extra = {k: v for k, v in (row.payload or {}).items() if k in REST_FIELDS}
        replies.append({"recipient_id": recipient, **({"text": row.text} if row.text else {}), **extra})
    return replies
