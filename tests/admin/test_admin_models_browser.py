"""In Chromium: an admin adds training examples, trains a model from the page (live progress, cancel
button while it runs), reads the data validation and the held-out evaluation beside the active
model's, activates the new model, the bot answers with it, and one click rolls back.

Runs on a second app (own database and models directory, 5-epoch trainings of a flow set with ten
examples per intent) that shares the live stack's Rasa server, like test_models_rasa.py: about a
minute and a half of training and evaluation, and two swaps of the live Rasa. The live Rasa serves
its original model again afterwards (``models_app`` restores it whatever happens).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.admin.conftest import ModelsApp, models_app, small_flow_documents
from tests.console_support import login_in_browser

pytestmark = pytest.mark.rasa

ADMIN = "models-browser@tagih.example"
INTENT = "promise_to_pay"
NEW_EXAMPLES = [
    "sy transfer tgl 28 ya pak",
    "gajian minggu depan langsung sy lunasi",
    "I will settle it on Friday after payday",
    "besok sore saya bayar lewat atm",
]
FINAL = ("succeeded", "failed", "cancelled")
NUMBER = re.compile(r"^\d\.\d{3}$")
READ_JOB = """() => {
  const progress = document.querySelector("#job-status [data-progress]");
  const cancel = document.getElementById("cancel-training");
  return [document.getElementById("job").dataset.status || "",
          progress ? progress.dataset.progress : "0",
          !cancel.hidden && cancel.offsetParent !== null];
}"""


def say(served: ModelsApp, message: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{served.url}/webhooks/rest/webhook",
        json={"sender": f"models-browser-{uuid.uuid4().hex[:10]}", "message": message},
        timeout=180,
    )
    assert response.status_code == 200, response.text
    return response.json()


def follow_job(page: Any, seconds: float = 420) -> list[tuple[str, int, bool]]:
    """What the page shows while the job runs: (status, percent, cancel button visible) as it changes."""
    seen: list[tuple[str, int, bool]] = []
    deadline = time.monotonic() + seconds
    while True:
        # One read of the page: separate reads could straddle a render (a status with the next one's button).
        status, progress, cancel = page.evaluate(READ_JOB)
        state = (status, int(progress), bool(cancel))
        if not seen or seen[-1] != state:
            seen.append(state)
        if status in FINAL:
            return seen
        assert time.monotonic() < deadline, f"training did not finish in the page: {seen[-5:]}"
        time.sleep(0.25)


def test_admin_trains_evaluates_activates_and_rolls_back(live_stack, page, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("models-browser")
    with models_app(live_stack, tmp, ADMIN, flow_documents=small_flow_documents()) as served:
        original = served.original.name.removesuffix(".tar.gz")
        login_in_browser(page, served.url, ADMIN, "/admin")
        page.wait_for_selector(f"#models tr[data-model='{original}'][data-active=true]")
        assert page.is_hidden("#rollback"), "nothing to roll back to yet"

        # Add examples to an intent through the examples panel: flow version 3 (2 is the small set).
        page.fill("#intent", INTENT)
        page.fill("#examples", "\n".join(NEW_EXAMPLES))
        page.click("#add-examples")
        expect(page.locator("#saved")).to_contain_text("version 3", timeout=30_000)

        # Train it; the page follows the job live.
        started = time.monotonic()
        page.click("#train")
        page.wait_for_selector("#job:not([hidden])")
        states = follow_job(page)
        trained = time.monotonic()
        status = page.get_attribute("#job", "data-status")
        assert status == "succeeded", (status, page.inner_text("#job"))
        statuses = [s for s, _, _ in states]
        assert "training" in statuses and "evaluating" in statuses, states
        progress = [p for _, p, _ in states]
        assert progress == sorted(progress) and progress[-1] == 100, states
        assert any(0 < p < 100 for _, p, _ in states), "progress seen part-way"
        assert all(cancel for s, _, cancel in states if s in ("training", "evaluating")), "cancel while running"
        assert page.is_hidden("#cancel-training") and page.is_visible("#train")
        assert "flow version 3" in page.inner_text("#job-title")

        # Before activating: the data validation and the evaluation beside the active model's.
        assert page.get_attribute("#validation", "data-errors") == "0"
        assert "rasa data validate" in page.inner_text("#validation")
        expected = page.locator("#validation-expected [data-validation=expected]").all_text_contents()
        assert int(page.get_attribute("#validation", "data-expected")) == len(expected) > 0
        assert any("'utter_ask_promise_date'" in line for line in expected), expected
        warnings = page.locator("#validation [data-validation=warning]").all_text_contents()
        assert not any("'utter_ask_promise_date'" in line for line in warnings), warnings
        rows = page.locator("#evaluation-table tbody tr[data-intent]")
        intents = [rows.nth(i).get_attribute("data-intent") for i in range(rows.count())]
        assert {"greet", INTENT, "request_human"} <= set(intents), intents
        row = page.locator(f"#evaluation-table tr[data-intent={INTENT}]")
        for metric in ("candidate-precision", "candidate-recall", "candidate-f1", "active-f1"):
            assert NUMBER.match(row.locator(f"[data-metric={metric}]").inner_text()), metric
        assert NUMBER.match(page.inner_text("#evaluation-macro [data-metric=candidate-macro-f1]"))
        assert NUMBER.match(page.inner_text("#evaluation-macro [data-metric=active-macro-f1]"))
        assert page.is_visible("#confusions-candidate") and page.is_visible("#confusions-active")
        assert original in page.inner_text("#evaluation-active-note")

        name = page.get_attribute("#job", "data-model")
        assert name and name != original
        new_row = page.locator(f"#models tr[data-model='{name}']")
        assert new_row.get_attribute("data-active") == "false"
        assert new_row.locator("[data-source]").inner_text() == "flow version 3"
        assert new_row.locator("[data-macro-f1]").get_attribute("data-macro-f1") == page.get_attribute(
            "#evaluation", "data-candidate-macro-f1"
        )

        # Activate: the live Rasa serves the new model and the bot answers with it.
        page.click("#activate-candidate")
        page.wait_for_selector(f"#models tr[data-model='{name}'][data-active=true]", timeout=180_000)
        activated = time.monotonic()
        assert page.is_visible("#activate-candidate[data-serving]")
        assert served.serving() == f"{name}.tar.gz"
        reply = say(served, "halo")
        assert any(message.get("text") for message in reply), reply

        # One click puts the earlier model back.
        assert original[:22] in page.inner_text("#rollback")
        page.click("#rollback")
        page.wait_for_selector(f"#models tr[data-model='{original}'][data-active=true]", timeout=180_000)
        rolled_back = time.monotonic()
        assert served.serving() == served.original.name
        assert page.is_hidden("#error")
        assert any(message.get("text") for message in say(served, "halo"))
        print(
            f"training in the page {trained - started:.0f}s, activation {activated - trained:.0f}s"
            f" (with checks), roll back {rolled_back - activated:.0f}s"
        )
