"""The console in Chromium against the real app, Rasa and a fake WhatsApp: a debtor asks for a
person, the agent sees it appear live, claims, replies, resolves, and the bot answers again."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bot.db.models import Conversation, Handoff
from bot.services.handoffs import ticket_number
from tests.console_support import DEFAULT_PASSWORD, make_user
from tests.messaging.test_whatsapp_round_trip import say, sent_to, text_of
from tests.support import TEST_RASA_TOKEN, wait_until

pytestmark = pytest.mark.rasa


def handoff_of(stack, phone: str) -> Handoff | None:
    with stack.session_factory() as session:
        return session.scalar(
            select(Handoff).join(Conversation).where(Conversation.sender_id == phone).order_by(Handoff.id.desc())
        )


def test_agent_takes_over_and_hands_back(live_stack, graph_api, page, new_debtor):  # noqa: F811
    email = "agen.browser@tagih.example"
    make_user(live_stack.session_factory, email, "agent", name="Agen Browser")
    debtor = new_debtor("id")

    page.goto(f"{live_stack.app_url}/console")
    assert "/console/login" in page.url, "the console asks for a login first"
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_stack.app_url}/console")

    say(live_stack, debtor.phone, "saya mau bicara dengan petugas")
    handoff = wait_until(lambda: handoff_of(live_stack, debtor.phone))
    ticket = ticket_number(handoff)
    row = page.locator(f"tr[data-ticket='{ticket}']")
    row.wait_for(timeout=15000)  # appears without a reload (server-sent events)
    assert "request_human" in row.inner_text()

    row.locator("button[data-claim]").click()
    page.wait_for_url(f"**/console/conversations/{handoff.conversation_id}")
    page.wait_for_selector("#resolve:not([hidden])")
    assert "saya mau bicara dengan petugas" in page.inner_text("#transcript")

    page.fill("#reply", "Halo, saya Agen Browser. Ada yang bisa saya bantu?")
    page.click("#send")
    wait_until(lambda: any("Agen Browser" in text_of(r) for r in sent_to(graph_api, debtor.phone)))
    page.wait_for_selector(".msg.agent")

    page.fill("#note", "Debitur minta dihubungi sore")
    page.click("#add-note")
    page.wait_for_selector(".note")

    page.fill("#plan-count", "3")
    page.fill("#plan-first", "2026-12-01")
    page.click("#plan")
    expect(page.locator("#account")).to_contain_text("3 installments (active)", timeout=30_000)

    page.click("#resolve")
    expect(page.locator("#handoff")).to_contain_text("With the bot", timeout=30_000)
    assert handoff_of(live_stack, debtor.phone).status == "resolved"
    tracker = httpx.get(
        f"{live_stack.rasa_url}/conversations/whatsapp:{debtor.phone}/tracker",
        params={"token": TEST_RASA_TOKEN},
        timeout=10,
    ).json()
    said = [e.get("text") for e in tracker["events"] if e["event"] == "bot"]
    assert "Halo, saya Agen Browser. Ada yang bisa saya bantu?" in said, "the agent's turn is in the bot's context"

    # the debtor is told the bot is back, on the channel they wrote on
    notice = wait_until(lambda: [r for r in sent_to(graph_api, debtor.phone) if "asisten otomatis" in text_of(r)])
    assert len(notice) == 1
    before = len(sent_to(graph_api, debtor.phone))
    say(live_stack, debtor.phone, "berapa tagihan saya?")
    reply = wait_until(lambda: [text_of(r) for r in sent_to(graph_api, debtor.phone)[before:]])
    assert "Rp1.750.000" in reply[0], "the bot answers again after the agent resolved"
    assert all("sore" not in text_of(r) for r in sent_to(graph_api, debtor.phone)), "notes never reach the debtor"


def test_agent_accepts_an_offer_the_bot_could_not(live_stack, graph_api, page, new_debtor):  # noqa: F811
    email = "agen.tawaran@tagih.example"
    make_user(live_stack.session_factory, email, "agent", name="Agen Tawaran")
    debtor = new_debtor("id")  # owes Rp1.750.000; the bot agrees up to 6 installments, agents up to 12

    say(live_stack, debtor.phone, "bisa dicicil gk kak?")
    wait_until(lambda: sent_to(graph_api, debtor.phone))
    say(live_stack, debtor.phone, "sy sanggupnya 200rb sebulan")
    handoff = wait_until(lambda: (h := handoff_of(live_stack, debtor.phone)) and h.reason == "proposal" and h)

    page.goto(f"{live_stack.app_url}/console/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_stack.app_url}/console")
    row = page.locator(f"tr[data-ticket='{ticket_number(handoff)}']")
    row.wait_for(timeout=15000)
    assert "proposal" in row.inner_text()
    row.locator("button[data-claim]").click()
    page.wait_for_url(f"**/console/conversations/{handoff.conversation_id}")
    offer = page.locator("[data-proposal-id]")
    expect(offer).to_contain_text("9 x 200000.00", timeout=30_000)
    offer.locator("input[type=date]").fill("2026-12-05")
    offer.locator("button", has_text="Accept").click()
    expect(page.locator("#account")).to_contain_text("9 installments (active)", timeout=30_000)
    expect(page.locator("#proposals")).to_contain_text("None pending.")
