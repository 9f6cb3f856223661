"""What agents do about identity security: see and clear identity locks, and decide channel link
requests the debtor did not confirm. Runs inside the caller's transaction; everything is audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.db.models import Account, Conversation, Debtor, User
from bot.services.conversations import record_outbound
from bot.services.identity_checks import active_locks, clear_lock
from bot.services.linking import decide_link_request, pending_link_requests

# (response name, language, values) -> {"text", "buttons"}
Render = Callable[[str, str, dict[str, Any]], dict[str, Any]]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _accounts(debtor: Debtor) -> list[str]:
    return [a.ref for a in debtor.accounts]


def overview(session: Session, *, now: datetime) -> dict[str, Any]:
    """Identity locks in force on real accounts and link requests waiting for a decision."""
    locks = []
    for lock in active_locks(session, now=now):
        account = session.get(Account, lock.account_id) if lock.account_id else None
        if account is None:
            continue
        locks.append(
            {
                "id": lock.id,
                "account": account.ref,
                "debtor": account.debtor.name,
                "failures": lock.failures,
                "addresses": len(lock.addresses or []),
                "locked_at": _iso(lock.locked_at),
                "locked_until": _iso(lock.locked_until),
            }
        )
    requests = [
        {
            "id": r.id,
            "debtor": r.debtor.name,
            "accounts": _accounts(r.debtor),
            "channel": r.channel,
            "how": r.how,
            "replaces_a_link": r.previous_address is not None,
            "conversation_id": r.conversation_id,
            "created_at": _iso(r.created_at),
        }
        for r in pending_link_requests(session)
    ]
    return {"locks": locks, "link_requests": requests}


def clear_identity_lock(session: Session, lock_id: int, user: User, *, now: datetime) -> dict[str, Any]:
    lock = clear_lock(session, lock_id, by=f"agent:{user.email}", now=now)
    return {"id": lock.id, "cleared_at": _iso(lock.cleared_at), "cleared_by": lock.cleared_by}


def decide_link(
    session: Session, request_id: int, user: User, *, approve: bool, now: datetime, render: Render
) -> list[tuple[int, list[int]]]:
    """Approve or refuse a link request; returns the messages to send, queued in this transaction, by
    conversation (the route hands them to the outbox after the commit)."""
    outcome = decide_link_request(session, request_id, approve=approve, by=f"agent:{user.email}", now=now)
    queued = []
    for notice in outcome.notices:
        conversation = session.get(Conversation, notice.conversation_id)
        if conversation is None:
            continue
        message = render(notice.response, conversation.language or "id", notice.values)
        rows = record_outbound(session, conversation, [message], author="bot", delivery_status="queued")
        queued.append((conversation.id, [row.id for row in rows]))
    return queued
