"""Dispatch through the rules gate: sent once, deferred with a reason, skipped with a reason."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, select

from bot.db.models import ContactPreference, Conversation, Handoff, InstallmentPlan, Message, Nudge, Promise
from bot.domain.contact_rules import US_REGULATION_F
from bot.errors import DialogueUnavailableError
from bot.outreach.dispatch import claim
from bot.outreach.ladder import active_ladder
from bot.outreach.planner import plan
from tests.outreach.conftest import NOW, days, make_dispatcher

TODAY = date(2026, 11, 23)
SUNDAY = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)  # 10:00 WIB


def plan_at(factory, now=NOW):
    with factory.begin() as session:
        return plan(session, active_ladder(session), now=now)


async def dispatch(factory, trigger, now=NOW, **kw):
    return await make_dispatcher(factory, trigger, **kw).run_once(now)


def nudge_of(factory, ref):
    with factory() as session:
        nudge = session.scalar(select(Nudge).order_by(Nudge.id.desc()))
        return nudge if nudge.account.ref == ref else None


async def test_due_reminder_is_recorded_in_rasa_and_written_once(factory, accounts, trigger):
    ref = accounts.add(due=TODAY)
    plan_at(factory)
    report = await dispatch(factory, trigger)
    assert len(report.sent) == 1 and len(report.message_ids) == 1
    with factory() as session:
        message = session.get(Message, report.message_ids[0])
        conversation = session.get(Conversation, message.conversation_id)
        assert message.delivery_status == "queued" and message.author == "system"
        assert "Tagih Finance" in message.text and ref in message.text and "Rp1.500.000" in message.text
        assert message.payload["template"]["name"] == "tagih_due_today"
        assert conversation.channel == "whatsapp" and conversation.verified
        assert conversation.account.ref == ref
    sender, intent, entities = trigger.calls[0]
    assert sender == conversation.rasa_sender_id and intent == "EXTERNAL_reminder"
    assert entities == {"reminder_stage": "d0", "reminder_amount": "1500000.00", "reminder_due_date": "2026-11-23"}
    again = await dispatch(factory, trigger)
    assert again.sent == [] and len(trigger.calls) == 1


async def test_sunday_is_deferred_to_monday_morning_with_the_reason(factory, accounts, trigger):
    ref = accounts.add(due=date(2026, 11, 29))
    plan_at(factory, SUNDAY)
    report = await dispatch(factory, trigger, SUNDAY)
    assert report.sent == [] and "Sun" in report.deferred[0][1]
    nudge = nudge_of(factory, ref)
    assert nudge.status == "planned" and nudge.not_before == datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)
    assert "Sun" in nudge.reason
    monday = await dispatch(factory, trigger, datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc))
    assert len(monday.sent) == 1


async def test_opted_out_channel_is_never_used(factory, accounts, trigger):
    telegram_ref = accounts.add(due=TODAY, telegram="55501")
    whatsapp_only = accounts.add(due=TODAY)
    with factory.begin() as session:
        for ref in (telegram_ref, whatsapp_only):
            debtor = accounts.debtor(session, ref)
            session.add(
                ContactPreference(
                    debtor_id=debtor.id, channel="whatsapp", address=debtor.phone, kind="opt_out", source="debtor"
                )
            )
    plan_at(factory)
    report = await dispatch(factory, trigger)
    with factory() as session:
        sent = session.scalars(select(Nudge).where(Nudge.status == "sent")).all()
        skipped = session.scalars(select(Nudge).where(Nudge.status == "skipped")).all()
        assert [(n.account.ref, n.channel) for n in sent] == [(telegram_ref, "telegram")]
        assert [(n.account.ref, n.reason) for n in skipped] == [(whatsapp_only, "opted out on whatsapp")]
    assert len(report.sent) == 1


async def test_pending_promise_dispute_and_handoff_hold_reminders(factory, accounts, trigger):
    promised = accounts.add(due=TODAY - days(1))
    disputed = accounts.add(due=TODAY - days(1))
    plan_at(factory)  # planned first; the promise and the dispute come after
    with factory.begin() as session:
        account = accounts.get(session, promised)
        session.add(Promise(account_id=account.id, amount=Decimal("100000"), promised_date=TODAY + days(2)))
        accounts.get(session, disputed).status = "disputed"
    report = await dispatch(factory, trigger)
    reasons = sorted(reason for _, reason in report.deferred)
    assert reasons == ["dispute open: collection paused", "promise to pay pending until 2026-11-25"]
    with factory() as session:
        resumed = session.scalar(select(Nudge).join(Nudge.account).where(Nudge.reason.like("promise%")))
        assert resumed.not_before == datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)  # 26th 00:00 WIB


async def test_open_handoff_defers(factory, accounts, trigger):
    ref = accounts.add(due=TODAY)
    with factory.begin() as session:
        account = accounts.get(session, ref)
        conversation = Conversation(
            channel="whatsapp",
            sender_id=account.debtor.phone,
            rasa_sender_id=f"whatsapp:{account.debtor.phone}",
            debtor_id=account.debtor_id,
            account_id=account.id,
            status="agent",
        )
        session.add(conversation)
        session.flush()
        session.add(Handoff(conversation_id=conversation.id, account_id=account.id, reason="request_human"))
    plan_at(factory)
    report = await dispatch(factory, trigger)
    assert report.sent == [] and "agent" in report.deferred[0][1]


async def test_daily_cap_defers_the_second_message(factory, accounts, trigger):
    ref = accounts.add(due=TODAY - days(10))
    with factory.begin() as session:
        session.add(
            Promise(account_id=accounts.get(session, ref).id, amount=Decimal("1"), promised_date=TODAY - days(3))
        )
    plan_at(factory)  # the D+7 stage and a broken-promise follow-up, both due now
    report = await dispatch(factory, trigger)
    assert len(report.sent) == 1 and report.deferred[0][1] == "daily cap reached (1 per day)"
    with factory() as session:
        waiting = session.scalar(select(Nudge).where(Nudge.status == "planned"))
        assert waiting.not_before == datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)  # next day 08:00 WIB


async def test_final_stage_opens_a_handoff(factory, accounts, trigger):
    ref = accounts.add(due=TODAY - days(14))
    plan_at(factory)
    await dispatch(factory, trigger)
    with factory() as session:
        handoff = session.scalar(select(Handoff))
        assert handoff.reason == "final_notice" and handoff.account.ref == ref
        assert handoff.conversation.status == "agent"


async def test_installment_plan_replaces_the_ladder(factory, accounts, trigger):
    ref = accounts.add(due=TODAY - days(3))
    with factory.begin() as session:
        session.add(
            InstallmentPlan(account_id=accounts.get(session, ref).id, total=Decimal("1500000"), installment_count=3)
        )
    plan_at(factory)
    report = await dispatch(factory, trigger)
    assert report.skipped[0][1] == "installment plan active: its own reminders apply"


async def test_regulation_f_appends_the_opt_out_line(factory, accounts, trigger):
    accounts.add(due=TODAY, tz="America/New_York", language="en")
    now = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)  # 10:00 in New York
    plan_at(factory, now)
    report = await dispatch(factory, trigger, now, profile=US_REGULATION_F)
    with factory() as session:
        text = session.get(Message, report.message_ids[0]).text
    assert text.startswith("Hello") and text.endswith("Reply STOP to opt out.")


async def test_dialogue_engine_down_retries_later(factory, accounts, trigger):
    accounts.add(due=TODAY)
    plan_at(factory)
    trigger.fail_with = DialogueUnavailableError("connection refused")
    report = await dispatch(factory, trigger)
    assert report.sent == [] and "dialogue engine unavailable" in report.deferred[0][1]
    with factory() as session:
        assert session.scalar(select(func.count(Message.id))) == 0
        nudge = session.scalar(select(Nudge))
        assert nudge.status == "planned" and nudge.attempts == 1 and nudge.not_before > NOW
    trigger.fail_with = None
    later = await dispatch(factory, trigger, NOW + timedelta(minutes=10))
    assert len(later.sent) == 1


async def test_an_expired_claim_is_taken_over_and_sent_once(factory, accounts, trigger):
    accounts.add(due=TODAY)
    plan_at(factory)
    ids = claim(factory, now=NOW, worker="dead", limit=10, lease=timedelta(minutes=5))
    assert len(ids) == 1
    assert (await dispatch(factory, trigger, NOW + timedelta(minutes=1), worker="w2")).sent == [], "lease still held"
    report = await dispatch(factory, trigger, NOW + timedelta(minutes=6), worker="w2")
    assert report.sent == ids
    with factory() as session:
        assert session.scalar(select(func.count(Message.id))) == 1


WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import datetime, timezone
    from bot.db.session import make_engine, make_session_factory
    from tests.outreach.conftest import make_dispatcher

    async def slow_trigger(sender, intent, entities):
        await asyncio.sleep(0.2)
        print("triggered", flush=True)
        return []

    factory = make_session_factory(make_engine(sys.argv[1]))
    now = datetime.fromisoformat(sys.argv[2])
    asyncio.run(make_dispatcher(factory, slow_trigger, worker="doomed", batch=50, concurrency=1).run_once(now))
    """
)


def test_killing_a_worker_mid_batch_loses_and_duplicates_nothing(factory, accounts, trigger):
    for _ in range(12):
        accounts.add(due=TODAY)
    plan_at(factory)
    url = factory.kw["bind"].url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, NOW.isoformat()],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
    )
    for _ in range(4):  # let it send a few, then kill it without warning
        assert process.stdout.readline().strip() == "triggered"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    with factory() as session:
        sent_before = session.scalar(select(func.count(Nudge.id)).where(Nudge.status == "sent"))
        claimed = session.scalar(select(func.count(Nudge.id)).where(Nudge.status == "claimed"))
    assert 0 < sent_before < 12 and claimed == 12 - sent_before
    report = asyncio.run(dispatch(factory, trigger, NOW + timedelta(minutes=6), worker="survivor"))
    assert len(report.sent) == 12 - sent_before
    with factory() as session:
        assert session.scalar(select(func.count(Nudge.id)).where(Nudge.status == "sent")) == 12
        per_nudge = session.execute(
            select(Nudge.id, func.count(Message.id)).join(Message, Message.id == Nudge.message_id).group_by(Nudge.id)
        ).all()
        assert len(per_nudge) == 12 and all(count == 1 for _, count in per_nudge)
        outbound = session.scalar(select(func.count(Message.id)).where(Message.direction == "out"))
        assert outbound == 12, json.dumps([sent_before, outbound])


async def test_the_policy_in_force_is_read_for_every_run(factory, accounts, trigger):
    """The runner's dispatcher reads the profile from the newest flow version: an admin's switch to
    Regulation F applies to the next run, without a restart."""
    from bot.outreach.gate import contact_profile
    from bot.services import policy

    now = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)  # 10:00 in New York
    dispatcher = make_dispatcher(factory, trigger, profile=contact_profile)
    accounts.add(due=TODAY, tz="America/New_York", language="en")
    plan_at(factory, now)
    first = await dispatcher.run_once(now)
    with factory.begin() as session:
        policy.edit(session, {"rules": {"profile": "us_regulation_f"}}, by="admin@tagih.example")
    accounts.add(due=TODAY, tz="America/New_York", language="en")
    plan_at(factory, now)
    second = await dispatcher.run_once(now)
    with factory() as session:
        texts = [session.get(Message, i).text for i in first.message_ids + second.message_ids]
    assert len(texts) == 2
    assert not texts[0].endswith("Reply STOP to opt out.") and texts[1].endswith("Reply STOP to opt out.")


def open_web_page(factory, accounts, ref, *, verified=True, open_until=NOW + timedelta(seconds=30)) -> str:
    """The debtor's web chat conversation, with a page open until ``open_until``."""
    with factory.begin() as session:
        account = accounts.get(session, ref)
        conversation = Conversation(
            channel="web",
            sender_id=f"page-{ref}",
            rasa_sender_id=f"web:page-{ref}",
            debtor_id=account.debtor_id if verified else None,
            account_id=account.id if verified else None,
            verified=verified,
            language="id",
            page_open_until=open_until,
        )
        session.add(conversation)
    return f"page-{ref}"


def channel_of(factory, message_id) -> tuple[str, str]:
    with factory() as session:
        message = session.get(Message, message_id)
        return message.channel, session.get(Conversation, message.conversation_id).sender_id


WEB_TOO = ("web", "whatsapp", "telegram")


async def test_a_debtor_reading_the_web_chat_gets_the_reminder_on_the_page(factory, accounts, trigger):
    ref = accounts.add(due=TODAY)
    page = open_web_page(factory, accounts, ref)
    plan_at(factory)
    report = await dispatch(factory, trigger, channels=WEB_TOO)
    assert channel_of(factory, report.message_ids[0]) == ("web", page)
    assert trigger.calls[0][0] == f"web:{page}", "the reminder is in that conversation's dialogue"


async def test_a_closed_or_unverified_page_is_not_written_to(factory, accounts, trigger):
    closed = accounts.add(due=TODAY)
    open_web_page(factory, accounts, closed, open_until=NOW - timedelta(seconds=1))
    stranger = accounts.add(due=TODAY)
    open_web_page(factory, accounts, stranger, verified=False)
    only_web = accounts.add(due=TODAY, phone=False)
    open_web_page(factory, accounts, only_web, open_until=NOW - timedelta(minutes=5))
    plan_at(factory)
    report = await dispatch(factory, trigger, channels=WEB_TOO)
    assert sorted(channel_of(factory, m)[0] for m in report.message_ids) == ["whatsapp", "whatsapp"]
    (reason,) = [why for _, why in report.skipped]
    assert "no private channel" in reason, "a debtor reachable only on a closed page is not written to"
