"""The console's use cases: queue, claim, reply, notes, account actions, resolve."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.db.models import Account, AuditLog, Conversation, Handoff, Message, Note, Payment, Promise
from bot.errors import ConflictError, ForbiddenError, NotFoundError, PolicyError
from bot.services import console, policy
from bot.services.accounts import account_snapshot
from tests.console.conftest import NOW


def do(factory, work):
    with factory.begin() as session:
        return work(session)


def test_queue_lists_waiting_handoffs_with_the_account(factory, waiting):
    (item,) = do(factory, lambda s: console.queue(s, now=NOW))
    assert item["reason"] == "request_human" and item["channel"] == "whatsapp" and item["status"] == "open"
    assert item["waiting_seconds"] == 20 * 60
    assert item["account"]["ref"] == waiting.account_ref and item["account"]["days_past_due"] == 13
    assert item["account"]["balance"] == "IDR 1,200,000"


def test_claim_release_and_conflicts(factory, waiting, agent, other_agent, admin):
    do(factory, lambda s: console.claim(s, waiting.handoff_id, agent, now=NOW))
    with pytest.raises(ConflictError, match="claimed by ana@tagih.example"):
        do(factory, lambda s: console.claim(s, waiting.handoff_id, other_agent, now=NOW))
    with pytest.raises(ForbiddenError):
        do(factory, lambda s: console.release(s, waiting.handoff_id, other_agent))
    do(factory, lambda s: console.reassign(s, waiting.handoff_id, admin, "budi@tagih.example", now=NOW))
    with factory() as session:
        assert session.get(Handoff, waiting.handoff_id).assigned_to == "budi@tagih.example"
        actions = session.scalars(select(AuditLog.action).where(AuditLog.actor.like("agent:%"))).all()
        assert actions == ["handoff.claimed", "handoff.reassigned"]
    with pytest.raises(ForbiddenError):
        do(factory, lambda s: console.reassign(s, waiting.handoff_id, agent, "ana@tagih.example", now=NOW))


def test_only_the_claiming_agent_may_reply(factory, waiting, agent, other_agent, settings):
    def reply(user, text="Halo, saya bantu ya"):
        return do(
            factory,
            lambda s: console.reply(
                s, waiting.conversation_id, user, text=text, template=False, settings=settings, now=NOW
            ),
        )

    with pytest.raises(ForbiddenError, match="claim the conversation first"):
        reply(agent)
    do(factory, lambda s: console.claim(s, waiting.handoff_id, agent, now=NOW))
    with pytest.raises(ForbiddenError):
        reply(other_agent)
    with pytest.raises(PolicyError, match="empty"):
        reply(agent, "   ")
    queued = reply(agent)
    with factory() as session:
        message = session.get(Message, queued.message_id)
        assert message.author == "agent" and message.delivery_status == "queued"
        assert message.payload == {"agent": "ana@tagih.example"}


def test_outside_the_window_only_the_template(factory, waiting, agent, settings):
    do(factory, lambda s: console.claim(s, waiting.handoff_id, agent, now=NOW))
    later = NOW + timedelta(hours=25)
    with pytest.raises(PolicyError, match="24 hours"):
        do(
            factory,
            lambda s: console.reply(
                s, waiting.conversation_id, agent, text="Halo", template=False, settings=settings, now=later
            ),
        )
    queued = do(
        factory,
        lambda s: console.reply(
            s, waiting.conversation_id, agent, text=None, template=True, settings=settings, now=later
        ),
    )
    with factory() as session:
        assert session.get(Message, queued.message_id).payload["force_template"] is True


def test_notes_are_private_and_canned_replies_filled_in(factory, waiting, agent, settings):
    do(factory, lambda s: console.add_note(s, waiting.conversation_id, agent, "Debitur minta dihubungi sore"))
    view = do(factory, lambda s: console.conversation_view(s, waiting.conversation_id, agent, now=NOW))
    assert view["notes"][0]["text"] == "Debitur minta dihubungi sore"
    assert all("sore" not in (m["text"] or "") for m in view["messages"]), "notes are never messages"
    assert view["account"]["ref"] == waiting.account_ref and view["inside_window"]
    canned = do(factory, lambda s: console.canned_replies(s, waiting.conversation_id, agent, settings=settings))
    balance = next(c for c in canned if c["key"] == "balance")
    assert balance["text"] == f"Sisa tagihan {waiting.account_ref} adalah Rp1.200.000, jatuh tempo 10 November 2026."


def test_agent_actions_on_the_account(factory, waiting, agent, settings):
    do(factory, lambda s: console.claim(s, waiting.handoff_id, agent, now=NOW))
    # agents may go beyond the bot's 14-day horizon, up to the admin's limit (30 days)
    do(
        factory,
        lambda s: console.agent_promise(
            s,
            waiting.conversation_id,
            agent,
            amount=Decimal("500000"),
            promised_date=date(2026, 12, 15),
            now=NOW,
        ),
    )
    with pytest.raises(PolicyError):
        do(
            factory,
            lambda s: console.agent_promise(
                s,
                waiting.conversation_id,
                agent,
                amount=Decimal("500000"),
                promised_date=date(2027, 2, 1),
                now=NOW,
            ),
        )
    do(
        factory,
        lambda s: console.decide_claim(s, waiting.conversation_id, agent, waiting.claim_id, confirm=True, now=NOW),
    )
    with pytest.raises(ConflictError):
        do(
            factory,
            lambda s: console.decide_claim(s, waiting.conversation_id, agent, waiting.claim_id, confirm=False, now=NOW),
        )
    with factory() as session:
        account = session.scalar(select(Account).where(Account.ref == waiting.account_ref))
        assert account.balance == Decimal("1000000.00")
        assert session.scalar(select(Payment.reference)) == "TRX-77"
        assert session.scalar(select(Promise.promised_date)) == date(2026, 12, 15)


def test_disputes_resume_or_close_collection(factory, waiting, agent):
    do(factory, lambda s: console.claim(s, waiting.handoff_id, agent, now=NOW))
    with pytest.raises(ConflictError, match="not disputed"):
        do(factory, lambda s: console.resolve_dispute(s, waiting.conversation_id, agent, resume=True))
    with factory.begin() as session:
        session.scalar(select(Account).where(Account.ref == waiting.account_ref)).status = "disputed"
    do(factory, lambda s: console.resolve_dispute(s, waiting.conversation_id, agent, resume=False))
    with factory() as session:
        assert session.scalar(select(Account.status).where(Account.ref == waiting.account_ref)) == "closed"


def test_resolve_returns_the_conversation_with_the_agents_turns(factory, waiting, agent, settings):
    do(factory, lambda s: console.claim(s, waiting.handoff_id, agent, now=NOW))
    do(
        factory,
        lambda s: console.reply(
            s, waiting.conversation_id, agent, text="Sudah kami cek, aman.", template=False, settings=settings, now=NOW
        ),
    )
    resolution = do(
        factory, lambda s: console.resolve(s, waiting.conversation_id, agent, now=NOW, company_name="Tagih Finance")
    )
    assert [t["text"] for t in resolution.agent_turns] == ["Sudah kami cek, aman."]
    assert resolution.agent_turns[0]["event"] == "bot" and resolution.agent_turns[0]["metadata"]["agent"] == agent.email
    with factory() as session:
        assert session.get(Conversation, waiting.conversation_id).status == "bot"
        assert session.get(Handoff, waiting.handoff_id).status == "resolved"
        assert session.scalar(select(Note)) is None
        notice = session.get(Message, resolution.notice_id)
        assert notice.author == "system" and notice.delivery_status == "queued", "the debtor is told the bot is back"
        assert "asisten otomatis Tagih Finance" in notice.text and notice.payload == {"handback": waiting.handoff_id}
    with pytest.raises(ConflictError):
        do(factory, lambda s: console.resolve(s, waiting.conversation_id, agent, now=NOW, company_name="Tagih Finance"))


def test_agents_see_the_early_settlement_offer_of_the_policy_in_force(factory, waiting, agent, admin):
    view = do(factory, lambda s: console.conversation_view(s, waiting.conversation_id, agent, now=NOW))
    assert view["early_settlement"] is None, "the repository's policy offers no discount"
    do(
        factory,
        lambda s: policy.edit(
            s, {"arrangements.early_settlement": {"discount_percent": 10, "pay_within_days": 5}}, by=admin.email
        ),
    )
    view = do(factory, lambda s: console.conversation_view(s, waiting.conversation_id, agent, now=NOW))
    # balance Rp1.200.000, 10% off, within 5 days of the debtor's today
    today = do(factory, lambda s: s.scalar(select(Account).where(Account.ref == waiting.account_ref)).local_today(NOW))
    assert view["early_settlement"] == {
        "discount_percent": "10",
        "amount": "1080000.00",
        "pay_by": (today + timedelta(days=5)).isoformat(),
    }


def test_agents_accept_or_decline_an_offer_the_bot_could_not_accept(factory, waiting, agent):
    from bot.services.arrangements import record_proposal

    def offers(session):
        conversation = session.get(Conversation, waiting.conversation_id)
        account = session.get(Account, conversation.account_id)
        plan = record_proposal(
            session,
            account=account,
            conversation=conversation,
            kind="installments",
            amount=Decimal("150000"),
            count=8,
            reason="beyond the bot's limits, within the agents'",
        )
        promise = record_proposal(
            session,
            account=account,
            conversation=conversation,
            kind="promise",
            amount=Decimal("1200000"),
            first_date=date(2026, 12, 18),
            reason="beyond the bot's limits, within the agents'",
        )
        return plan.id, promise.id

    plan_offer, promise_offer = do(factory, offers)
    do(factory, lambda s: console.claim(s, waiting.handoff_id, agent, now=NOW))
    decide = console.decide_proposal
    with pytest.raises(PolicyError):  # the debtor named no first date: the agent must
        do(factory, lambda s: decide(s, waiting.conversation_id, agent, plan_offer, accept=True, now=NOW))
    do(
        factory,
        lambda s: decide(
            s, waiting.conversation_id, agent, plan_offer, accept=True, first_date=date(2026, 12, 1), now=NOW
        ),
    )
    do(factory, lambda s: decide(s, waiting.conversation_id, agent, promise_offer, accept=False, now=NOW))
    with pytest.raises(ConflictError):
        do(factory, lambda s: decide(s, waiting.conversation_id, agent, promise_offer, accept=True, now=NOW))
    with pytest.raises(NotFoundError):
        do(factory, lambda s: decide(s, waiting.conversation_id, agent, 999_999, accept=True, now=NOW))

    with factory() as session:
        ref = session.get(Account, session.get(Conversation, waiting.conversation_id).account_id).ref
        snapshot = account_snapshot(session, ref, now=NOW)
    assert [(p["kind"], p["status"], p["decided_by"]) for p in snapshot["proposals"]] == [
        ("installments", "accepted", agent.email),
        ("promise", "declined", agent.email),
    ]
    (plan,) = snapshot["plans"]
    assert plan["installment_count"] == 8 and plan["status"] == "active"
    amounts = [i["amount"] for i in plan["installments"]]
    assert amounts[:7] == ["150000.00"] * 7 and amounts[-1] == "150000.00"  # 8 x 150,000 = 1,200,000
    assert plan["installments"][0]["due_date"] == "2026-12-01"
    assert snapshot["promises"] == []  # the declined offer records nothing
