"""Payment arrangements agreed in conversation: promises, extensions, installment plans,
payment claims, hardship and disputes. Each validates against the policy and leaves an audit entry.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import (
    Account,
    Conversation,
    Handoff,
    Installment,
    InstallmentPlan,
    PaymentClaim,
    Promise,
    Proposal,
)
from bot.domain.schedule import (
    ScheduledInstallment,
    check_installment_request,
    installment_schedule,
    promise_problem,
)
from bot.errors import PolicyError
from bot.services.audit import audit
from bot.services.handoffs import open_handoff
from bot.services.policy import ArrangementPolicy
from bot.services.segments import Signal, next_segment


def _resegment(account: Account, signal: Signal) -> None:
    account.segment = next_segment(account.segment, signal)


def _conversation_id(conversation: Conversation | None) -> int | None:
    return conversation.id if conversation is not None else None


def _cancel_pending_promises(session: Session, account: Account) -> None:
    for promise in session.scalars(
        select(Promise).where(Promise.account_id == account.id, Promise.status == "pending")
    ):
        promise.status = "cancelled"


def record_promise(
    session: Session,
    *,
    account: Account,
    conversation: Conversation | None,
    amount: Decimal,
    promised_date: date,
    kind: str,
    today: date,
    policy: ArrangementPolicy,
) -> Promise:
    """A new promise supersedes any pending one on the same account.

    Under the policy's early-settlement offer, a promise to pay the whole balance (or exactly the
    discounted amount) by the offer's deadline becomes a ``settlement`` promise for the discounted
    amount: paying it on time waives the rest (bot/services/payments.py)."""
    problem = promise_problem(promised_date, today=today, max_days=policy.max_promise_days)
    if problem:
        raise PolicyError(problem)
    if amount <= 0 or amount > account.balance:
        raise PolicyError("amount_out_of_range")
    details = {"account": account.ref, "amount": str(amount), "date": promised_date.isoformat()}
    offer = policy.early_settlement
    if (
        kind == "promise"
        and offer is not None
        and amount in (account.balance, offer.amount(account.balance))
        and promised_date <= offer.deadline(today)
    ):
        kind, amount = "settlement", offer.amount(account.balance)
        details.update(
            amount=str(amount),
            balance=str(account.balance),
            discount_percent=str(offer.discount_percent),
            waived_when_paid=str(account.balance - amount),
        )
    _cancel_pending_promises(session, account)
    if amount >= account.balance or kind == "settlement":
        for plan in _active_plans(session, account):  # paying everything replaces the plan
            plan.status = "cancelled"
    promise = Promise(
        account_id=account.id,
        conversation_id=_conversation_id(conversation),
        kind=kind,
        amount=amount,
        promised_date=promised_date,
    )
    session.add(promise)
    _resegment(account, "extension" if kind == "extension" else "promised")
    session.flush()
    audit(
        session,
        actor="bot",
        action=f"{kind}.recorded",
        entity_type="promise",
        entity_id=promise.id,
        conversation_id=_conversation_id(conversation),
        details=details,
    )
    return promise


def _active_plans(session: Session, account: Account) -> list[InstallmentPlan]:
    return list(
        session.scalars(
            select(InstallmentPlan).where(InstallmentPlan.account_id == account.id, InstallmentPlan.status == "active")
        )
    )


def propose_plan(
    account: Account,
    *,
    count: int,
    first_date: date,
    today: date,
    policy: ArrangementPolicy,
    amount: Decimal | None = None,
) -> list[ScheduledInstallment]:
    """The schedule for ``count`` instalments from ``first_date`` (equal ones, or ``amount`` each with a
    smaller last one), or PolicyError with the first problem."""
    problems = check_installment_request(
        account.balance, count, first_date, today=today, policy=policy.installments, amount=amount
    )
    if problems:
        raise PolicyError(problems[0])
    return installment_schedule(account.balance, count, first_date, amount=amount)


def record_installment_plan(
    session: Session,
    *,
    account: Account,
    conversation: Conversation | None,
    count: int,
    first_date: date,
    today: date,
    policy: ArrangementPolicy,
    amount: Decimal | None = None,
) -> InstallmentPlan:
    """Replace any active plan and pending promise with the agreed schedule."""
    schedule = propose_plan(account, count=count, first_date=first_date, today=today, policy=policy, amount=amount)
    for plan in _active_plans(session, account):
        plan.status = "cancelled"
    _cancel_pending_promises(session, account)
    plan = InstallmentPlan(
        account_id=account.id,
        conversation_id=_conversation_id(conversation),
        total=sum((item.amount for item in schedule), Decimal(0)),
        installment_count=len(schedule),
    )
    plan.installments = [Installment(seq=item.seq, due_date=item.due_date, amount=item.amount) for item in schedule]
    session.add(plan)
    _resegment(account, "agreed_plan")
    session.flush()
    audit(
        session,
        actor="bot",
        action="plan.recorded",
        entity_type="installment_plan",
        entity_id=plan.id,
        conversation_id=_conversation_id(conversation),
        details={"account": account.ref, "count": len(schedule), "total": str(plan.total)},
    )
    return plan


def record_payment_claim(
    session: Session,
    *,
    account: Account,
    conversation: Conversation | None,
    amount: Decimal | None,
    paid_on: date | None,
    reference: str | None,
) -> PaymentClaim:
    """A claim waits for reconciliation; it never changes the balance by itself."""
    claim = PaymentClaim(
        account_id=account.id,
        conversation_id=_conversation_id(conversation),
        amount=amount,
        paid_on=paid_on,
        reference=reference,
    )
    session.add(claim)
    _resegment(account, "claimed_paid")
    session.flush()
    audit(
        session,
        actor="bot",
        action="payment_claim.recorded",
        entity_type="payment_claim",
        entity_id=claim.id,
        conversation_id=_conversation_id(conversation),
        details={"account": account.ref, "amount": None if amount is None else str(amount)},
    )
    return claim


def record_hardship(session: Session, *, account: Account, conversation: Conversation | None, reason: str) -> None:
    _resegment(account, "hardship")
    audit(
        session,
        actor="bot",
        action="hardship.reported",
        entity_type="account",
        entity_id=account.ref,
        conversation_id=_conversation_id(conversation),
        details={"reason": reason},
    )


def open_dispute(session: Session, *, account: Account, conversation: Conversation, reason: str) -> Handoff:
    """Pause collection on the account and put the dispute in front of a person."""
    account.status = "disputed"
    _resegment(account, "disputed")
    handoff = open_handoff(session, conversation=conversation, reason="dispute", note=reason)
    audit(
        session,
        actor="bot",
        action="dispute.opened",
        entity_type="account",
        entity_id=account.ref,
        conversation_id=conversation.id,
        details={"reason": reason, "handoff": handoff.id},
    )
    return handoff


def record_proposal(
    session: Session,
    *,
    account: Account,
    conversation: Conversation,
    kind: str,
    amount: Decimal,
    reason: str,
    count: int | None = None,
    first_date: date | None = None,
) -> Proposal:
    """A debtor's offer beyond what the bot may agree but within the agents' limits: kept as offered
    and put in front of a person (the bot stays silent meanwhile, as for any handoff)."""
    summary = f"{kind}: {amount}" + (f" x {count}" if count else "") + (f" from {first_date}" if first_date else "")
    handoff = open_handoff(session, conversation=conversation, reason="proposal", note=f"{summary} ({reason})")
    proposal = Proposal(
        account_id=account.id,
        conversation_id=conversation.id,
        handoff_id=handoff.id,
        kind=kind,
        amount=amount,
        installment_count=count,
        first_date=first_date,
        reason=reason,
    )
    session.add(proposal)
    session.flush()
    audit(
        session,
        actor="bot",
        action="proposal.recorded",
        entity_type="proposal",
        entity_id=proposal.id,
        conversation_id=conversation.id,
        details={"account": account.ref, "kind": kind, "amount": str(amount), "count": count, "reason": reason},
    )
    return proposal
