"""In Chromium: an admin adds, edits, moves and removes a training example and routes an intent to
another flow from the examples panel; each step is a stored flow version."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from bot.services import flows
from bot.services import training_data as td
from tests.console_support import login_in_browser, make_user

pytestmark = pytest.mark.rasa

ADMIN = "training.browser@tagih.example"
ADDED = "makasih banyak ya kak tagih"
EDITED = "makasih banyak kak tagih"


def newest(live_stack: Any) -> tuple[int, dict[str, str], str, str]:
    with live_stack.session_factory() as session:
        version = flows.newest(session)
        return version.number, dict(version.documents), version.summary, version.created_by


def texts(documents: dict[str, str], intent: str) -> list[str]:
    return [e["text"] for e in td.intent(documents, intent)["examples"]]


def saved(page: Any, number: int) -> None:
    expect(page.locator("#saved")).to_contain_text(f"version {number}:", timeout=30_000)


def test_admin_edits_examples_and_routing_in_the_page(live_stack, page):
    make_user(live_stack.session_factory, ADMIN, "admin")
    with live_stack.session_factory.begin() as session:
        flows.seed(session)
    base, _, _, _ = newest(live_stack)
    login_in_browser(page, live_stack.app_url, ADMIN, "/admin")

    page.wait_for_selector("#intent-select option[value=thanks]", state="attached")
    page.select_option("#intent-select", "thanks")
    assert page.input_value("#intent") == "thanks"
    page.fill("#examples", ADDED)
    page.click("#add-examples")
    saved(page, base + 1)
    number, documents, summary, by = newest(live_stack)
    assert (number, summary, by) == (base + 1, "1 example added to thanks", ADMIN)
    assert texts(documents, "thanks")[-1] == ADDED

    page.fill(f"#example-list input[data-example-input='{ADDED}']", EDITED)
    page.click(f"#example-list button[data-save='{ADDED}']")
    saved(page, base + 2)
    _, documents, summary, _ = newest(live_stack)
    assert summary == "example edited in thanks" and texts(documents, "thanks")[-1] == EDITED
    assert ADDED not in texts(documents, "thanks")

    page.wait_for_selector(f"#example-list li[data-example='{EDITED}']")
    page.check(f"#example-list input[data-select='{EDITED}']")
    page.select_option("#move-to", "goodbye")
    page.click("#move-examples")
    saved(page, base + 3)
    _, documents, summary, _ = newest(live_stack)
    assert summary == "1 example moved from thanks to goodbye"
    assert EDITED not in texts(documents, "thanks") and texts(documents, "goodbye")[-1] == EDITED
    page.wait_for_selector(f"#example-list li[data-example='{EDITED}']", state="detached")  # gone from the list

    page.select_option("#intent-select", "goodbye")
    page.wait_for_selector(f"#example-list li[data-example='{EDITED}']")
    page.click(f"#example-list button[data-remove='{EDITED}']")
    saved(page, base + 4)
    _, documents, summary, _ = newest(live_stack)
    assert summary == "example removed from goodbye"
    assert EDITED not in {e["text"] for i in td.intents(documents) for e in i["examples"]}

    assert page.is_disabled("#routes-table select[data-route=stop_contact]"), "opt-out stays fixed"
    page.select_option("#routes-table select[data-route=greet]", "action_request_human")
    page.click("#routes-table button[data-save-route=greet]")
    saved(page, base + 5)
    page.wait_for_selector("#routes-table tr[data-intent=greet][data-target=action_request_human]")
    _, documents, summary, _ = newest(live_stack)
    assert summary == "greet now goes to action_request_human"
    greet = next(r for r in td.routes(documents)["routes"] if r["intent"] == "greet")
    assert greet["target"] == "action_request_human" and greet["handoff"]

    page.fill("#examples", "")
    page.click("#add-examples")  # nothing to add: refused with the reason, nothing stored
    page.wait_for_selector("#error:not([hidden])")
    assert "at least 1" in page.inner_text("#error") and newest(live_stack)[0] == base + 5

    with live_stack.session_factory.begin() as session:  # the live stack is shared: leave the flow set as found
        flows.restore(session, base, by=ADMIN)
