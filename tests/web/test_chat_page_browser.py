"""The /chat page in a real browser (Debian's Chromium driven by Playwright) against the live stack:
the real Rasa model, the console in a second browser, the stored records checked after."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from bot.db.models import Conversation, Handoff, Message
from bot.services.handoffs import ticket_number
from bot.web.chat_session import COOKIE
from tests.console_support import login_in_browser, make_user
from tests.support import wait_until

pytestmark = pytest.mark.rasa


def page_session(page) -> str:
    (cookie,) = [c for c in page.context.cookies() if c["name"] == COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find(COOKIE) == -1, "the page's script cannot read the session"
    return cookie["value"].split(".")[0]


def conversation_of(stack, session_id: str) -> Conversation | None:
    with stack.session_factory() as session:
        return session.scalar(
            select(Conversation).where(Conversation.channel == "web", Conversation.sender_id == session_id)
        )


def rows(stack, conversation_id: int) -> list[Message]:
    with stack.session_factory() as session:
        return list(session.scalars(select(Message).where(Message.conversation_id == conversation_id)))


def test_chat_in_the_browser_with_clickable_buttons(live_stack, page):
    page.goto(f"{live_stack.app_url}/chat?lang=id")
    expect(page.locator("#welcome")).to_contain_text("nomor kontrak dan tanggal lahir")
    page.fill("#text", "halo selamat siang")
    page.press("#text", "Enter")
    page.wait_for_selector(".msg.out.bot")
    assert "Tagih Finance" in page.inner_text(".msg.out.bot .body")
    button = page.locator(".buttons button", has_text="Cek tagihan")
    button.click()
    # the button's title is shown as the debtor's message and its payload reaches the bot
    page.locator(".msg.out.bot").nth(1).wait_for(timeout=30_000)
    bot_messages = page.locator(".msg.out.bot .body").all_inner_texts()
    assert "Cek tagihan" in page.locator(".msg.in .body").all_inner_texts()
    assert "nomor kontrak" in bot_messages[-1]
    # quick replies belong to the last bot turn only: the greeting's buttons are gone
    assert page.locator(".buttons button", has_text="Cek tagihan").count() == 0
    page.fill("#text", "   ")
    page.press("#text", "Enter")
    assert page.locator(".msg.in").count() == 2, "blank input is not sent"
    expect(page.locator("#submit")).to_be_enabled()


def test_debtor_asks_for_a_person_and_the_agent_answers_on_the_open_page(live_stack, page):
    email = "agen.webchat@tagih.example"
    make_user(live_stack.session_factory, email, "agent", name="Agen Webchat")
    page.goto(f"{live_stack.app_url}/chat?lang=id")
    page.fill("#text", "sy mau ngomong sama orang aja, bukan bot")
    page.press("#text", "Enter")
    expect(page.locator("#submit")).to_be_disabled()  # a turn is pending: no second send
    page.locator(".msg.out.bot").first.wait_for(timeout=30_000)
    expect(page.locator("#submit")).to_be_enabled()
    expect(page.locator("#with-agent")).to_be_visible()
    session_id = page_session(page)
    conversation = conversation_of(live_stack, session_id)
    assert conversation.status == "agent"
    with live_stack.session_factory() as session:
        handoff = session.scalar(select(Handoff).where(Handoff.conversation_id == conversation.id))
    assert handoff.reason == "request_human" and handoff.status == "open"

    console = page.context.browser.new_page()  # the agent, in a browser of their own
    login_in_browser(console, live_stack.app_url, email, path="/console")
    console.locator(f"tr[data-ticket='{ticket_number(handoff)}'] button[data-claim]").click()
    console.wait_for_url(f"**/console/conversations/{conversation.id}")
    console.wait_for_selector("#resolve:not([hidden])")
    console.fill("#reply", "Halo, saya Agen Webchat. Ada yang bisa saya bantu?")
    console.click("#send")

    agent_reply = page.locator(".msg.out.agent", has_text="Agen Webchat")
    agent_reply.wait_for(timeout=15_000)  # pushed to the open page, no reload
    assert "Petugas" in agent_reply.inner_text()
    sent = wait_until(lambda: [m for m in rows(live_stack, conversation.id) if m.author == "agent"])
    wait_until(lambda: [m.delivery_status for m in rows(live_stack, conversation.id) if m.id == sent[0].id] == ["read"])
    expect(console.locator("#transcript .msg.agent")).to_contain_text("read", timeout=15_000)

    page.reload()
    expect(page.locator(".msg.out.agent .body")).to_have_text(["Halo, saya Agen Webchat. Ada yang bisa saya bantu?"])
    expect(page.locator(".msg.in .body").first).to_have_text("sy mau ngomong sama orang aja, bukan bot")

    console.click("#resolve")
    expect(page.locator(".msg.out.system")).to_contain_text("asisten otomatis", timeout=15_000)
    expect(page.locator("#with-agent")).to_be_hidden()
    bot_before = page.locator(".msg.out.bot").count()
    page.fill("#text", "berapa tagihan saya?")
    page.press("#text", "Enter")
    page.locator(".msg.out.bot").nth(bot_before).wait_for(timeout=30_000)
    assert "nomor kontrak" in page.locator(".msg.out.bot .body").last.inner_text(), "the bot answers again"
    with live_stack.session_factory() as session:
        assert session.get(Handoff, handoff.id).status == "resolved"
        assert session.get(Conversation, conversation.id).status == "bot"
    console.close()


def test_the_chat_page_passes_an_accessibility_check(live_stack, page):
    page.goto(f"{live_stack.app_url}/chat?lang=id")
    assert page.locator("h1").inner_text() == "Chat dengan Tagih Finance"
    for role in ("banner", "main", "contentinfo", "log", "form"):
        assert page.get_by_role(role).count() == 1, role
    assert page.get_by_label("Pesan", exact=True).count() == 1, "the input has a label"
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    page.goto(f"{live_stack.app_url}/chat?lang=en")
    assert page.locator("h1").inner_text() == "Chat with Tagih Finance"
    assert Axe().run(page).violations_count == 0
