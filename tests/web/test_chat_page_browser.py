"""The /chat page in a real browser (Debian's Chromium driven by Playwright) against the live stack."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.rasa


def test_chat_in_the_browser_with_clickable_buttons(live_stack, page):
    page.goto(f"{live_stack.app_url}/chat")
    page.fill("#text", "halo selamat siang")
    page.press("#text", "Enter")
    page.wait_for_selector(".msg.bot")
    assert "Tagih Finance" in page.inner_text(".msg.bot")
    button = page.locator(".buttons button", has_text="Cek tagihan")
    button.click()
    # the button's title is shown as the debtor's message and its payload reaches the bot
    page.locator(".msg.bot").nth(1).wait_for(timeout=30_000)
    bot_messages = page.locator(".msg.bot").all_inner_texts()
    assert "Cek tagihan" in page.locator(".msg.user").all_inner_texts()
    assert "nomor kontrak" in bot_messages[-1]
    page.fill("#text", "   ")
    page.press("#text", "Enter")
    assert page.locator(".msg.user").count() == 2, "blank input is not sent"
