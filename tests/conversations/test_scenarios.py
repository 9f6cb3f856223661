"""Every scenario in tests/conversations/*.yml, through the web chat route and the real Rasa model."""

from __future__ import annotations

import pytest

from tests.conversations.runner import load_scenarios, play

pytestmark = pytest.mark.rasa
SCENARIOS = load_scenarios()


CASES = [
    pytest.param(
        s,
        id=f"{s['file']}: {s['name']}",
        marks=[pytest.mark.xfail(reason=s["known_gap"], strict=False)] if s.get("known_gap") else [],
    )
    for s in SCENARIOS
]


@pytest.mark.parametrize("scenario", CASES)
def test_conversation_holds_up(live_stack, sender, scenario):
    problems = play(live_stack, scenario, sender)
    assert not problems, "\n".join(problems)
