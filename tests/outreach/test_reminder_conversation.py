"""A reminder goes out on WhatsApp and the debtor's answer is understood in its context:
real Rasa model, real app, fake Graph API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Account, Nudge, Promise
from bot.dialogue.rasa_client import RasaClient
from bot.messaging.outbox import Outbox, OutboxPolicy
from bot.outreach.dispatch import DispatchReport
from bot.outreach.ladder import active_ladder
from bot.outreach.planner import plan
from channels.whatsapp import WhatsAppChannel, WhatsAppConfig
from tests.messaging.test_whatsapp_round_trip import say, sent_to, text_of
from tests.outreach.conftest import make_dispatcher
from tests.support import FIXED_NOW, TEST_RASA_TOKEN, wait_until

pytestmark = pytest.mark.rasa


async def no_limit(_: str) -> None:
    return None


async def send_reminder(stack, ref: str) -> DispatchReport:
    """Plan, then dispatch only this account's nudge (the shared database holds other tests' accounts)."""
    with stack.session_factory.begin() as session:
        plan(session, active_ladder(session), now=FIXED_NOW)
        nudge = session.scalar(select(Nudge).join(Account).where(Account.ref == ref))
        nudge.status, nudge.claimed_by, nudge.claimed_until = "claimed", "live-test", FIXED_NOW + timedelta(minutes=5)
        nudge_id = nudge.id
    rasa = RasaClient(stack.rasa_url, token=TEST_RASA_TOKEN)
    try:
        dispatcher = make_dispatcher(stack.session_factory, rasa.trigger_intent, worker="live-test")
        report = DispatchReport()
        await dispatcher.process([nudge_id], FIXED_NOW, report)
    finally:
        await rasa.aclose()
    channel = WhatsAppChannel(WhatsAppConfig.from_settings(stack.settings))
    outbox = Outbox(
        stack.session_factory, {"whatsapp": channel}, policy=OutboxPolicy(), limiters={"whatsapp": no_limit}
    )
    try:
        await outbox.send_batch(report.message_ids)
    finally:
        await channel.aclose()
    return report


async def test_reply_to_a_reminder_is_a_promise_for_that_debt(live_stack, graph_api, new_debtor):  # noqa: F811
    debtor = new_debtor("id", amount="800000", due="2026-11-22")  # one day overdue at the fixed clock
    report = await send_reminder(live_stack, debtor.ref)
    assert len(report.sent) == 1
    (reminder,) = sent_to(graph_api, debtor.phone)
    # nobody wrote first, so outside the 24-hour window the stage's approved template goes out
    assert reminder["type"] == "template" and reminder["template"]["name"] == "tagih_overdue"
    parameters = [p["text"] for p in reminder["template"]["components"][0]["parameters"]]
    assert debtor.ref in parameters and "Rp800.000" in parameters

    say(live_stack, debtor.phone, "ok besok sy bayar")
    asked = wait_until(lambda: [text_of(r) for r in sent_to(graph_api, debtor.phone)[1:]])
    assert "Rp800.000" in asked[0], "no identity check: the reminder told the bot which debt this is"
    say(live_stack, debtor.phone, "lunas")
    wait_until(lambda: len(sent_to(graph_api, debtor.phone)) >= 3)
    say(live_stack, debtor.phone, "iya")
    wait_until(lambda: any("catat" in text_of(r) for r in sent_to(graph_api, debtor.phone)))
    with live_stack.session_factory() as session:
        promise = session.scalar(select(Promise).join(Account).where(Account.ref == debtor.ref))
        assert promise.promised_date == date(2026, 11, 24) and promise.amount == 800000
