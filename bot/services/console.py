"""What agents do in the console: the handoff queue, a conversation, replies, notes, account actions,
and handing the conversation back to the bot. Every action is audited with the agent's email.

Who may open a conversation (:func:`open_conversation`): an agent only one that has or had a handoff,
i.e. one a debtor or the bot brought to people; an admin any, since admins answer for what the bot
says and may need to read a conversation that never reached a person. Anyone else's id is answered
exactly like an unknown id (404), so ids cannot be probed; every view is audited
(``conversation.viewed``).

Functions run inside the caller's transaction and do not commit; web routes own the transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import case, select
from sqlalchemy.orm import Session, selectinload

from bot.db.models import (
    Account,
    ConfigDocument,
    Conversation,
    FlowVersion,
    Handoff,
    Message,
    Note,
    PaymentClaim,
    Promise,
    Proposal,
    User,
)
from bot.domain.dates import format_date
from bot.domain.money import format_money
from bot.errors import ConflictError, ForbiddenError, NotFoundError, PolicyError
from bot.services.accounts import account_snapshot
from bot.services.arrangements import record_installment_plan, record_promise
from bot.services.audit import audit
from bot.services.conversations import record_outbound
from bot.services.handoffs import queue_notice, ticket_number
from bot.services.payments import apply_payment
from bot.services.policy import ArrangementPolicy, active_policy
from bot.settings import PROJECT_ROOT, Settings

CANNED_DEFAULT = PROJECT_ROOT / "bot" / "data" / "canned_replies.yml"
CANNED_PATH = "bot/data/canned_replies.yml"
WHATSAPP_WINDOW = timedelta(hours=24)
MAX_REPLY_CHARS = 4000
OPEN = ("open", "claimed")


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _account_summary(account: Account | None, now: datetime) -> dict[str, Any] | None:
    if account is None:
        return None
    promise = next((p for p in account.promises if p.status == "pending"), None)
    plan = next((p for p in account.plans if p.status == "active"), None)
    return {
        "ref": account.ref,
        "debtor": account.debtor.name,
        "balance": format_money(account.balance, account.currency, "en"),
        "days_past_due": account.days_past_due(now),
        "segment": account.segment,
        "status": account.status,
        "open_promise": (
            {"amount": format_money(promise.amount, account.currency, "en"), "date": promise.promised_date.isoformat()}
            if promise
            else None
        ),
        "open_plan": {"installments": plan.installment_count, "total": str(plan.total)} if plan else None,
    }


# Handoffs that come before the rest of the queue: a person in distress, then a conduct complaint.
PRIORITY_REASONS = ("distress", "complaint")


def queue(session: Session, *, now: datetime) -> list[dict[str, Any]]:
    """Open and claimed handoffs, a person in distress and complaints first, then oldest first, with
    what an agent needs to pick one."""
    priority = case(
        *((Handoff.reason == reason, rank) for rank, reason in enumerate(PRIORITY_REASONS)),
        else_=len(PRIORITY_REASONS),
    )
    handoffs = session.scalars(
        select(Handoff)
        .where(Handoff.status.in_(OPEN))
        .order_by(priority, Handoff.created_at, Handoff.id)
        .options(
            selectinload(Handoff.conversation),
            selectinload(Handoff.account).selectinload(Account.promises),
            selectinload(Handoff.account).selectinload(Account.plans),
            selectinload(Handoff.account).selectinload(Account.payments),
            selectinload(Handoff.account).selectinload(Account.debtor),
        )
    )
    return [
        {
            "id": h.id,
            "ticket": ticket_number(h),
            "reason": h.reason,
            "priority": h.reason in PRIORITY_REASONS,
            "note": h.note,
            "status": h.status,
            "assigned_to": h.assigned_to,
            "channel": h.conversation.channel,
            "conversation_id": h.conversation_id,
            "waiting_seconds": int((now - h.created_at).total_seconds()),
            "created_at": _iso(h.created_at),
            "account": _account_summary(h.account, now),
        }
        for h in handoffs
    ]


def _handoff(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFoundError(f"no handoff {handoff_id}")
    return handoff


def _log(session: Session, user: User, action: str, conversation_id: int | None, **details: Any) -> None:
    audit(
        session,
        actor=f"agent:{user.email}",
        action=action,
        entity_type="conversation",
        entity_id=conversation_id,
        conversation_id=conversation_id,
        details=details or None,
    )


def claim(session: Session, handoff_id: int, user: User, *, now: datetime) -> Handoff:
    handoff = _handoff(session, handoff_id)
    if handoff.status == "resolved":
        raise ConflictError(f"handoff {ticket_number(handoff)} is already resolved")
    if handoff.status == "claimed" and handoff.assigned_to != user.email:
        raise ConflictError(f"handoff {ticket_number(handoff)} is claimed by {handoff.assigned_to}")
    handoff.status, handoff.assigned_to, handoff.claimed_at = "claimed", user.email, now
    _log(session, user, "handoff.claimed", handoff.conversation_id, handoff=handoff.id)
    return handoff


def release(session: Session, handoff_id: int, user: User) -> Handoff:
    handoff = _handoff(session, handoff_id)
    if handoff.status != "claimed":
        raise ConflictError(f"handoff {ticket_number(handoff)} is not claimed")
    if handoff.assigned_to != user.email and user.role != "admin":
        raise ForbiddenError("only the agent who claimed it (or an admin) can release it")
    handoff.status, handoff.assigned_to, handoff.claimed_at = "open", None, None
    _log(session, user, "handoff.released", handoff.conversation_id, handoff=handoff.id)
    return handoff


def reassign(session: Session, handoff_id: int, admin: User, to_email: str, *, now: datetime) -> Handoff:
    if admin.role != "admin":
        raise ForbiddenError("admins only")
    handoff = _handoff(session, handoff_id)
    if handoff.status == "resolved":
        raise ConflictError(f"handoff {ticket_number(handoff)} is already resolved")
    target = session.scalar(select(User).where(User.email == to_email.strip().lower(), User.active.is_(True)))
    if target is None:
        raise NotFoundError(f"no active user {to_email}")
    previous = handoff.assigned_to
    handoff.status, handoff.assigned_to, handoff.claimed_at = "claimed", target.email, now
    _log(
        session,
        admin,
        "handoff.reassigned",
        handoff.conversation_id,
        handoff=handoff.id,
        previous=previous,
        to=target.email,
    )
    return handoff


def may_open(session: Session, conversation: Conversation, user: User) -> bool:
    """Admins any conversation; agents one that has or had a handoff (open, claimed or resolved)."""
    if user.role == "admin":
        return True
    return session.scalar(select(Handoff.id).where(Handoff.conversation_id == conversation.id).limit(1)) is not None


def open_conversation(session: Session, conversation_id: int, user: User) -> Conversation:
    """The conversation if ``user`` may open it; otherwise the same :class:`NotFoundError` as for
    an id that does not exist. Every per-conversation route goes through here."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or not may_open(session, conversation, user):
        raise NotFoundError(f"no conversation {conversation_id}")
    return conversation


def open_handoff_of(session: Session, conversation: Conversation) -> Handoff | None:
    return session.scalar(
        select(Handoff).where(Handoff.conversation_id == conversation.id, Handoff.status.in_(OPEN)).limit(1)
    )


def inside_window(conversation: Conversation, now: datetime) -> bool:
    """WhatsApp's 24-hour customer-service window (other channels have none)."""
    if conversation.channel != "whatsapp":
        return True
    return conversation.last_inbound_at is not None and now - conversation.last_inbound_at <= WHATSAPP_WINDOW


def conversation_view(session: Session, conversation_id: int, user: User, *, now: datetime) -> dict[str, Any]:
    """Everything the console shows about a conversation; the view is audited."""
    conversation = open_conversation(session, conversation_id, user)
    _log(session, user, "conversation.viewed", conversation.id, role=user.role)
    messages = session.scalars(
        select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
    ).all()
    notes = session.scalars(select(Note).where(Note.conversation_id == conversation.id).order_by(Note.id)).all()
    handoff = open_handoff_of(session, conversation)
    account = conversation.account
    return {
        "id": conversation.id,
        "channel": conversation.channel,
        "status": conversation.status,
        "language": conversation.language,
        "verified": conversation.verified,
        "inside_window": inside_window(conversation, now),
        "handoff": (
            {
                "id": handoff.id,
                "ticket": ticket_number(handoff),
                "reason": handoff.reason,
                "status": handoff.status,
                "assigned_to": handoff.assigned_to,
                "note": handoff.note,
            }
            if handoff
            else None
        ),
        "messages": [
            {
                "id": m.id,
                "direction": m.direction,
                "author": m.author,
                "text": m.text,
                "delivery_status": m.delivery_status,
                "error": m.error,
                "at": _iso(m.created_at),
                "agent": (m.payload or {}).get("agent"),
            }
            for m in messages
        ],
        "notes": [
            {"id": n.id, "text": n.text, "author": n.author.email if n.author else None, "at": _iso(n.created_at)}
            for n in notes
        ],
        "account": account_snapshot(session, account.ref, now=now) if account is not None else None,
        "early_settlement": _early_settlement(session, account, now),
    }


def _early_settlement(session: Session, account: Account | None, now: datetime) -> dict[str, Any] | None:
    """The policy's early-settlement offer for this account, for the agent to make (None: no offer)."""
    offer = active_policy(session).bot.early_settlement
    if offer is None or account is None or account.status != "active" or account.balance <= 0:
        return None
    return {
        "discount_percent": str(offer.discount_percent),
        "amount": str(offer.amount(account.balance)),
        "pay_by": offer.deadline(account.local_today(now)).isoformat(),
    }


def _require_owner(session: Session, conversation: Conversation, user: User) -> Handoff:
    handoff = open_handoff_of(session, conversation)
    if handoff is None:
        raise ConflictError("the conversation is with the bot: there is no open handoff")
    if handoff.status != "claimed" or handoff.assigned_to != user.email:
        owner = handoff.assigned_to or "nobody"
        raise ForbiddenError(f"claim the conversation first (it is claimed by {owner})")
    return handoff


@dataclass(frozen=True)
class Reply:
    message_id: int
    conversation_id: int


def reply(
    session: Session,
    conversation_id: int,
    user: User,
    *,
    text: str | None,
    template: bool,
    settings: Settings,
    now: datetime,
) -> Reply:
    """Queue an agent's message on the debtor's channel (the outbox sends it).

    Outside WhatsApp's 24-hour window only the approved template may be sent."""
    conversation = open_conversation(session, conversation_id, user)
    _require_owner(session, conversation, user)
    payload: dict[str, Any] = {"agent": user.email}
    body = (text or "").strip()
    if template:
        if conversation.channel != "whatsapp":
            raise PolicyError("template_unsupported", "templates exist only on WhatsApp")
        payload["force_template"] = True
        body = f"[template {settings.whatsapp_template_name}]"
    else:
        if not body:
            raise PolicyError("empty", "the reply is empty")
        if len(body) > MAX_REPLY_CHARS:
            raise PolicyError("too_long", f"the reply is longer than {MAX_REPLY_CHARS} characters")
        if not inside_window(conversation, now):
            raise PolicyError(
                "outside_window",
                "the debtor last wrote more than 24 hours ago: WhatsApp only allows the approved template",
            )
    (message,) = record_outbound(
        session, conversation, [{"text": body, **payload}], author="agent", delivery_status="queued"
    )
    _log(session, user, "agent.replied", conversation.id, message=message.id, template=template)
    return Reply(message.id, conversation.id)


def add_note(session: Session, conversation_id: int, user: User, text: str) -> Note:
    conversation = open_conversation(session, conversation_id, user)
    body = text.strip()
    if not body:
        raise PolicyError("empty", "the note is empty")
    note = Note(conversation_id=conversation.id, author_id=user.id, text=body[:MAX_REPLY_CHARS])
    session.add(note)
    session.flush()
    _log(session, user, "note.added", conversation.id, note=note.id)
    return note


@lru_cache(maxsize=1)
def _default_canned() -> list[dict[str, Any]]:
    return list(yaml.safe_load(Path(CANNED_DEFAULT).read_text(encoding="utf-8"))["replies"])


def canned_replies(session: Session, conversation_id: int, user: User, *, settings: Settings) -> list[dict[str, str]]:
    """Canned replies in the conversation's language, placeholders filled from its account."""
    conversation = open_conversation(session, conversation_id, user)
    flow = session.scalar(select(FlowVersion.documents).order_by(FlowVersion.number.desc()).limit(1))
    stored = session.scalar(
        select(ConfigDocument.body)
        .where(ConfigDocument.kind == "canned_replies")
        .order_by(ConfigDocument.version.desc())
        .limit(1)
    )
    if flow and CANNED_PATH in flow:
        replies = yaml.safe_load(flow[CANNED_PATH])["replies"]
    else:
        replies = stored["replies"] if stored else _default_canned()
    language = conversation.language or settings.default_language
    account = conversation.account
    values = {
        "name": account.debtor.name if account else "",
        "amount": format_money(account.balance, account.currency, language) if account else "",
        "due_date": format_date(account.due_date, language) if account else "",
        "ref": account.ref if account else "",
        "company_name": settings.company_name,
        "agent": user.name or user.email.split("@")[0],
    }
    return [
        {"key": r["key"], "title": r["title"], "text": r["text"].get(language, r["text"]["id"]).format_map(values)}
        for r in replies
    ]


def agent_policy(session: Session) -> ArrangementPolicy:
    """What agents may agree: beyond the bot's policy, within the limits the policy in force sets."""
    return active_policy(session).agents


def _owned_account(session: Session, conversation_id: int, user: User) -> tuple[Conversation, Account]:
    conversation = open_conversation(session, conversation_id, user)
    _require_owner(session, conversation, user)
    if conversation.account is None:
        raise ConflictError("the conversation is not linked to an account (identity not verified)")
    return conversation, conversation.account


def agent_promise(
    session: Session,
    conversation_id: int,
    user: User,
    *,
    amount: Decimal,
    promised_date: date,
    now: datetime,
) -> Promise:
    conversation, account = _owned_account(session, conversation_id, user)
    promise = record_promise(
        session,
        account=account,
        conversation=conversation,
        amount=amount,
        promised_date=promised_date,
        kind="promise",
        today=account.local_today(now),
        policy=agent_policy(session),
    )
    _log(session, user, "agent.promise_recorded", conversation.id, promise=promise.id, amount=str(amount))
    return promise


def agent_plan(
    session: Session,
    conversation_id: int,
    user: User,
    *,
    count: int,
    first_date: date,
    now: datetime,
) -> Any:
    conversation, account = _owned_account(session, conversation_id, user)
    plan = record_installment_plan(
        session,
        account=account,
        conversation=conversation,
        count=count,
        first_date=first_date,
        today=account.local_today(now),
        policy=agent_policy(session),
    )
    _log(session, user, "agent.plan_recorded", conversation.id, plan=plan.id, installments=count)
    return plan


def decide_claim(
    session: Session, conversation_id: int, user: User, claim_id: int, *, confirm: bool, now: datetime
) -> PaymentClaim:
    conversation, account = _owned_account(session, conversation_id, user)
    claim = session.get(PaymentClaim, claim_id)
    if claim is None or claim.account_id != account.id:
        raise NotFoundError(f"no payment claim {claim_id} on {account.ref}")
    if claim.status != "pending":
        raise ConflictError(f"payment claim {claim_id} is already {claim.status}")
    if confirm:
        if claim.amount is None:
            raise PolicyError("no_amount", "the claim has no amount: record the payment with its amount instead")
        paid_on = claim.paid_on or account.local_today(now)
        apply_payment(
            session,
            account_ref=account.ref,
            amount=claim.amount,
            paid_at=paid_on,
            reference=claim.reference or f"claim-{claim.id}",
            source="claim",
            actor=f"agent:{user.email}",
            now=now,
        )
    claim.status = "confirmed" if confirm else "rejected"
    _log(session, user, f"claim.{claim.status}", conversation.id, claim=claim.id)
    return claim


def decide_proposal(
    session: Session,
    conversation_id: int,
    user: User,
    proposal_id: int,
    *,
    accept: bool,
    first_date: date | None = None,
    now: datetime,
) -> Proposal:
    """An agent answers a debtor's offer the bot could not accept. Accepting records it as offered
    (a promise, or a plan of that many installments of that amount) under the agents' limits; the
    agent then tells the debtor in the conversation."""
    conversation, account = _owned_account(session, conversation_id, user)
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.account_id != account.id:
        raise NotFoundError(f"no proposal {proposal_id} on {account.ref}")
    if proposal.status != "pending":
        raise ConflictError(f"proposal {proposal_id} is already {proposal.status}")
    recorded: dict[str, Any] = {}
    if accept:
        start = first_date or proposal.first_date
        if start is None:
            raise PolicyError("first_date_required", "the debtor gave no date: give the first date to accept")
        today, policy = account.local_today(now), agent_policy(session)
        if proposal.kind == "promise":
            promise = record_promise(
                session,
                account=account,
                conversation=conversation,
                amount=proposal.amount,
                promised_date=start,
                kind="promise",
                today=today,
                policy=policy,
            )
            recorded["promise"] = promise.id
        else:
            plan = record_installment_plan(
                session,
                account=account,
                conversation=conversation,
                count=proposal.installment_count or 0,
                first_date=start,
                today=today,
                policy=policy,
                amount=proposal.amount,
            )
            recorded["plan"] = plan.id
    proposal.status = "accepted" if accept else "declined"
    proposal.decided_at, proposal.decided_by = now, user.email
    _log(session, user, f"proposal.{proposal.status}", conversation.id, proposal=proposal.id, **recorded)
    return proposal


def resolve_dispute(session: Session, conversation_id: int, user: User, *, resume: bool) -> Account:
    conversation, account = _owned_account(session, conversation_id, user)
    if account.status != "disputed":
        raise ConflictError(f"{account.ref} is not disputed")
    account.status = "active" if resume else "closed"
    _log(session, user, "dispute.resolved", conversation.id, account=account.ref, outcome=account.status)
    return account


@dataclass(frozen=True)
class Resolution:
    rasa_sender: str
    agent_turns: list[dict[str, Any]]
    notice_id: int  # the debtor is told the bot is back (queued for the outbox)
    conversation_id: int


def resolve(session: Session, conversation_id: int, user: User, *, now: datetime, company_name: str) -> Resolution:
    """Hand the conversation back to the bot and tell the debtor so; returns the agent's turns for
    the Rasa tracker."""
    conversation = open_conversation(session, conversation_id, user)
    handoff = _require_owner(session, conversation, user)
    handoff.status, handoff.resolved_at = "resolved", now
    conversation.status = "bot"
    notice = queue_notice(
        session, conversation, "handed_back", values={"company_name": company_name}, payload={"handback": handoff.id}
    )
    turns = session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.author == "agent",
            Message.created_at >= handoff.created_at,
        )
        .order_by(Message.id)
    ).all()
    _log(session, user, "handoff.resolved", conversation.id, handoff=handoff.id)
    return Resolution(
        conversation.rasa_sender_id,
        [
            {
                # no timestamp: Rasa's tracker store reads a session's events by time, and the
                # turns belong after what the tracker already holds
                "event": "bot",
                "text": m.text,
                "metadata": {"agent": user.email, "message_id": m.id, "sent_at": _iso(m.created_at)},
            }
            for m in turns
        ],
        notice.id,
        conversation.id,
    )
