"""Every scenario in tests/conversations/*.yml, through the web chat route and the real Rasa model."""

from __future__ import annotations

import pytest

from tests.conversations.runner import load_scenarios, play

pytestmark = pytest.mark.rasa
SCENARIOS = load_scenarios()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f"{s['file']}: {s['name']}" for s in SCENARIOS])
def test_conversation_holds_up(live_stack, sender, scenario):
    problems = play(live_stack, scenario, sender)
    assert not problems, "\n".join(problems)
