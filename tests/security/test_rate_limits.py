"""Web chat rate limits (security finding 5): a person typing is never refused; a script writing
turn after turn, or making up sender ids from one address, gets 429 with Retry-After and a reason.

The app's limits are rebuilt from its settings with a frozen clock
(``WebChatLimits.from_settings(settings, clock=...)``), so the tests do not depend on how fast this
machine runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.db.models import Conversation, Message
from bot.settings import Settings
from bot.web.limits import RateLimiter, WebChatLimits
from tests.security._hostile import JSON, Served, served_app

DEFAULT_SENDER_RATE = Settings.model_fields["webchat_sender_per_minute"].default
DEFAULT_ADDRESS_RATE = Settings.model_fields["webchat_address_per_minute"].default


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@contextmanager
def limited_app(tmp: Path, graph_api: Any, bot_api: Any, clock: FrozenClock, **rates: float) -> Iterator[Served]:
    """The app with the default limits unless ``rates`` says otherwise (make_settings raises them
    for the rest of the suite), timed by ``clock``."""
    rates = {
        "TAGIH_WEBCHAT_SENDER_PER_MINUTE": DEFAULT_SENDER_RATE,
        "TAGIH_WEBCHAT_ADDRESS_PER_MINUTE": DEFAULT_ADDRESS_RATE,
        **rates,
    }
    with served_app(tmp, graph_api, bot_api, **rates) as app:
        app.client.app.state.webchat_limits = WebChatLimits.from_settings(app.settings, clock=clock)
        yield app


@pytest.fixture
def served(tmp_path: Path, graph_api: Any, bot_api: Any, clock: FrozenClock) -> Iterator[Served]:
    with limited_app(tmp_path, graph_api, bot_api, clock) as app:
        yield app


def say(client: TestClient, sender: str, message: str = "halo") -> Any:
    return client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})


def inbound_count(served: Served, sender: str) -> int:
    with served.factory() as session:
        return (
            session.scalar(
                select(func.count(Message.id))
                .join(Conversation)
                .where(Conversation.sender_id == sender, Message.direction == "in")
            )
            or 0
        )


def test_the_defaults_suit_a_person_and_not_a_script():
    assert (DEFAULT_SENDER_RATE, DEFAULT_ADDRESS_RATE) == (20.0, 60.0)


def test_a_person_typing_is_never_refused(clock):
    """Bursts of five quick lines, then a pause to read the answer, for ten minutes; and a steady
    line every 3.5 seconds for ten more."""
    limiter = RateLimiter(DEFAULT_SENDER_RATE, clock=clock)
    waits = []
    for _ in range(15):
        for _ in range(5):
            waits.append(limiter.take("debtor"))
            clock.now += 2
        clock.now += 30
    for _ in range(170):
        waits.append(limiter.take("debtor"))
        clock.now += 3.5
    assert waits == [0.0] * 245


def test_a_script_doing_twenty_turns_in_three_seconds_is_stopped(served, clock):
    answers = []
    for _ in range(20):
        answers.append(say(served.client, "scripted"))
        clock.now += 0.15
    assert [a.status_code for a in answers] == [200] * 10 + [429] * 10
    refused = answers[10]
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 3
    assert refused.json()["detail"] == f"too many messages from this sender; try again in {retry_after} s"
    assert inbound_count(served, "scripted") == 10, "refused messages are not stored"

    clock.now += retry_after
    assert say(served.client, "scripted").status_code == 200, "after Retry-After the sender may write again"


def test_another_sender_is_not_held_back_by_one_that_is(served, clock):
    for _ in range(11):
        say(served.client, "greedy")
    assert say(served.client, "greedy").status_code == 429
    assert say(served.client, "patient").status_code == 200


def test_one_address_making_up_sender_ids_is_stopped(served, clock):
    statuses = [say(served.client, f"made-up-{n}").status_code for n in range(40)]
    assert statuses == [200] * 30 + [429] * 10
    refused = say(served.client, "made-up-once-more")
    assert refused.status_code == 429 and "from this address" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) >= 1

    # Another address is not affected (no lifespan of its own: a refused-or-not check is all it needs).
    elsewhere = TestClient(served.client.app, client=("198.51.100.7", 50000))
    response = elsewhere.post("/webhooks/rest/webhook", content=b'{"sender": "x"}', headers=JSON)
    assert response.status_code == 422


def test_invalid_requests_count_against_the_address(served, clock):
    for _ in range(30):
        assert served.client.post("/webhooks/rest/webhook", content=b"{oops", headers=JSON).status_code == 400
    refused = say(served.client, "valid-at-last")
    assert refused.status_code == 429 and "from this address" in refused.json()["detail"]


def test_the_limits_follow_the_settings(tmp_path, graph_api, bot_api, clock):
    with limited_app(tmp_path / "low", graph_api, bot_api, clock, TAGIH_WEBCHAT_SENDER_PER_MINUTE=2) as low:
        assert [say(low.client, "slow").status_code for _ in range(3)] == [200, 429, 429]
    off_rates = {"TAGIH_WEBCHAT_SENDER_PER_MINUTE": 0, "TAGIH_WEBCHAT_ADDRESS_PER_MINUTE": 0}
    with limited_app(tmp_path / "off", graph_api, bot_api, clock, **off_rates) as off:
        assert {say(off.client, "unlimited").status_code for _ in range(60)} == {200}


def test_the_limiter_keeps_a_bounded_number_of_keys(clock):
    limiter = RateLimiter(60, burst=1, max_keys=3, clock=clock)
    assert limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(1.0)
    for key in ("b", "c", "d"):
        limiter.take(key)
    assert len(limiter._buckets) == 3
    assert limiter.take("a") == 0.0, "the least recently used key was forgotten, as a full bucket"
