"""In Chromium: an admin edits the collection policy; the page refuses an unlawful cap with the
reason, and a saved change is the policy in force at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bot.services import flows
from bot.services.policy import active_policy
from tests.console_support import login_in_browser, make_user

pytestmark = pytest.mark.rasa

INSTRUCTIONS = "Pay into Mandiri VA {virtual_account} ({company}), code {account_ref}."


def test_admin_edits_the_policy_in_the_browser(live_stack, page):
    email = "admin.policy@tagih.example"
    make_user(live_stack.session_factory, email, "admin")
    with live_stack.session_factory.begin() as session:
        before = flows.seed(session).number
    login_in_browser(page, live_stack.app_url, email, "/admin")
    expect(page.locator("#policy-promise-days")).to_have_value("14", timeout=30_000)
    assert page.input_value("#policy-profile") == "indonesia"
    assert page.input_value("#policy-max-per-day") == "", "blank: the profile's cap"
    try:
        page.fill("#policy-max-per-week", "9")
        page.click("#save-policy")
        page.wait_for_selector("#error:not([hidden])")
        assert "rules.max_per_week must be between 1 and 4" in page.inner_text("#error")

        page.fill("#policy-max-per-week", "3")
        page.fill("#policy-promise-days", "10")
        page.fill("#policy-discount", "5")
        page.fill("#policy-instructions-en", INSTRUCTIONS)
        page.click("#save-policy")
        page.wait_for_selector("#saved:not([hidden])")
        assert page.inner_text("#saved") == f"Saved as version {before + 1}"
        with live_stack.session_factory() as session:
            policy = active_policy(session)
        assert policy.profile.max_per_week == 3 and policy.bot.max_promise_days == 10
        assert policy.bot.early_settlement is not None and policy.bot.early_settlement.discount_percent == 5
        assert policy.payment_instructions["en"] == INSTRUCTIONS
        page.wait_for_selector(f"#versions li[data-version='{before + 1}']")
        assert "policy edited" in page.inner_text(f"#versions li[data-version='{before + 1}']")
    finally:  # the live stack is shared: put the policy back for the tests that follow
        with live_stack.session_factory.begin() as session:
            if flows.seed(session).number != before:
                flows.restore(session, before, by=email)
