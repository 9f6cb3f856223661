"""Login throttling that stops guessing without letting a guesser lock the real user out.

The lock is per (email, address): five wrong passwords from one address lock that email from that
address only. Failures for an email from many addresses slow every further attempt for it down
(2, 4, 8 ... 60 seconds after the newest failure, 429 with Retry-After) and never lock it for the
window; attempts the slow-down turns away are not counted, so a flood of them cannot stretch it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import LoginAttempt, User
from bot.db.session import make_engine, make_session_factory, migrate
from bot.services.users import InvalidCredentials, LoginThrottled, authenticate, slow_down_seconds
from bot.web.app import create_app
from tests.console_support import DEFAULT_PASSWORD, make_user
from tests.support import FIXED_NOW, make_settings

EMAIL = "rina@tagih.example"
WRONG = "not the password"


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    settings = make_settings(tmp_path)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    make_user(factory, EMAIL, "agent")
    yield factory
    engine.dispose()


def at(seconds: float) -> datetime:
    return FIXED_NOW + timedelta(seconds=seconds)


def attempt(factory: sessionmaker[Session], password: str, *, address: str, when: datetime) -> User:
    """authenticate() as the login route calls it: committed also when it raises."""
    with factory() as session:
        try:
            return authenticate(session, email=EMAIL, password=password, address=address, now=when)
        finally:
            session.commit()


def recorded(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count(LoginAttempt.id)).where(LoginAttempt.email == EMAIL)) or 0


def test_five_failures_lock_the_email_from_that_address_only(factory: sessionmaker[Session]) -> None:
    for second in range(5):
        with pytest.raises(InvalidCredentials):
            attempt(factory, WRONG, address="6.6.6.6", when=at(second))
    with pytest.raises(LoginThrottled) as locked:
        attempt(factory, DEFAULT_PASSWORD, address="6.6.6.6", when=at(10))
    assert locked.value.retry_after_seconds == 15 * 60 - 9  # until the failure at second 1 leaves the window
    # The real user at their own desk: six failures for the email, so a 4-second slow-down, no lock.
    with pytest.raises(LoginThrottled) as slowed:
        attempt(factory, DEFAULT_PASSWORD, address="10.0.0.7", when=at(12))
    assert slowed.value.retry_after_seconds == 2
    assert attempt(factory, DEFAULT_PASSWORD, address="10.0.0.7", when=at(14)).email == EMAIL
    # Their login does not unlock the guesser's address.
    with pytest.raises(LoginThrottled):
        attempt(factory, DEFAULT_PASSWORD, address="6.6.6.6", when=at(60))


def test_failures_from_many_addresses_slow_the_email_down_with_a_growing_wait(factory: sessionmaker[Session]) -> None:
    """A botnet: every address guesses a few times, never reaching the per-address lock."""
    now = 0.0
    for n in range(5):  # five failures, each from another address: no wait yet
        with pytest.raises(InvalidCredentials):
            attempt(factory, WRONG, address=f"203.0.113.{n}", when=at(now))
    waits = []
    for n in range(5, 12):
        with pytest.raises(LoginThrottled) as slowed:
            attempt(factory, WRONG, address=f"203.0.113.{n}", when=at(now))
        waits.append(slowed.value.retry_after_seconds)
        now += slowed.value.retry_after_seconds  # the guesser waits exactly as long as told ...
        with pytest.raises(InvalidCredentials):  # ... and gets one more guess checked
            attempt(factory, WRONG, address=f"198.51.100.{n}", when=at(now))
    assert waits == [2, 4, 8, 16, 32, 60, 60]
    assert [slow_down_seconds(n) for n in (4, 5, 6, 10, 11, 50)] == [0, 2, 4, 60, 60, 60]
    # The real user, from an address of their own, waits a minute at most: never the whole window.
    with pytest.raises(LoginThrottled) as slowed:
        attempt(factory, DEFAULT_PASSWORD, address="10.0.0.7", when=at(now + 1))
    assert slowed.value.retry_after_seconds == 59
    assert attempt(factory, DEFAULT_PASSWORD, address="10.0.0.7", when=at(now + 60)).email == EMAIL


def test_a_flood_of_refused_attempts_does_not_push_the_wait_forward(factory: sessionmaker[Session]) -> None:
    for n in range(6):
        with pytest.raises((InvalidCredentials, LoginThrottled)):
            attempt(factory, WRONG, address=f"203.0.113.{n}", when=at(n * 10))
    before = recorded(factory)
    for tick in range(100):  # ten a second from ever new addresses, all inside the 4-second wait
        with pytest.raises(LoginThrottled):
            attempt(factory, WRONG, address=f"192.0.2.{tick}", when=at(50 + tick / 100))
    assert recorded(factory) == before, "turned away by the slow-down alone: not counted"
    assert attempt(factory, DEFAULT_PASSWORD, address="10.0.0.7", when=at(54)).email == EMAIL


def test_a_successful_login_ends_the_slow_down(factory: sessionmaker[Session]) -> None:
    for n in range(5):
        with pytest.raises(InvalidCredentials):
            attempt(factory, WRONG, address=f"203.0.113.{n}", when=at(n))
    assert attempt(factory, DEFAULT_PASSWORD, address="10.0.0.7", when=at(10)).email == EMAIL
    with pytest.raises(InvalidCredentials):  # checked at once: no wait after the login
        attempt(factory, WRONG, address="10.0.0.7", when=at(10.5))


# ---------------------------------------------------------------------------------------------------
# Over HTTP


class Clock:
    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self) -> datetime:
        return self.now


def post_login(client: TestClient, password: str) -> Any:
    return client.post("/console/login", data={"email": EMAIL, "password": password})


def test_over_http_the_guesser_is_locked_and_the_real_user_gets_in(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    make_user(make_session_factory(engine), EMAIL, "agent")
    clock = Clock()
    app = create_app(settings, clock=clock)
    with (
        TestClient(app, follow_redirects=False, client=("6.6.6.6", 40000)) as guesser,
        TestClient(app, follow_redirects=False, client=("10.0.0.7", 40001)) as user,
    ):
        for _ in range(5):
            assert post_login(guesser, WRONG).status_code == 401
        locked = post_login(guesser, DEFAULT_PASSWORD)
        assert locked.status_code == 429 and locked.headers["retry-after"] == "900"
        assert "Try again in 15 minutes." in locked.text

        slowed = post_login(user, DEFAULT_PASSWORD)  # the same instant: the slow-down's few seconds
        assert slowed.status_code == 429 and slowed.headers["retry-after"] == "2"
        assert "Too many failed logins. Try again in 2 seconds." in slowed.text
        clock.now += timedelta(seconds=2)
        assert post_login(user, DEFAULT_PASSWORD).status_code == 303
        assert user.get("/console/api/me").json()["email"] == EMAIL
        assert post_login(guesser, DEFAULT_PASSWORD).status_code == 429
    engine.dispose()
