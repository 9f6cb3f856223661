"""In Chromium: an admin edits what the bot says, the next reply uses it, and a restore brings the
old text back, all without training a model."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.console_support import login_in_browser, make_user
from tests.support import wait_until

pytestmark = pytest.mark.rasa

NEW_GREETING = "Selamat datang di layanan tagihan {company_name}! Mau cek tagihan?"


def test_admin_edits_a_response_and_the_next_reply_uses_it(live_stack, page, sender):
    email = "admin.browser@tagih.example"
    make_user(live_stack.session_factory, email, "admin")
    login_in_browser(page, live_stack.app_url, email, "/admin")

    page.wait_for_selector("#response option[value=utter_greet]", state="attached")
    page.select_option("#response", "utter_greet")
    old_greeting = page.input_value("#text-id")
    page.fill("#text-id", NEW_GREETING)
    page.click("#save-response")
    page.wait_for_selector("#saved:not([hidden])")
    edited = int(page.inner_text("#saved").rsplit(" ", 1)[1])

    reply = live_stack.say(sender, "halo")
    assert reply[0]["text"] == "Selamat datang di layanan tagihan Tagih Finance! Mau cek tagihan?"
    assert [b["payload"] for b in reply[0]["buttons"]] == ["/ask_balance", "/ask_payment_method", "/request_human"]

    page.click(f"[data-restore='{edited - 1}']")
    expect(page.locator("#saved")).to_contain_text(f"version {edited + 1}", timeout=30_000)
    again = wait_until(lambda: live_stack.say(f"{sender}-2", "halo"))
    assert again[0]["text"] == old_greeting.replace("{company_name}", "Tagih Finance")
