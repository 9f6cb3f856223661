"""Console authentication: users and passwords, login throttling, sessions, roles and CSRF."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import pytest
from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Form, Request
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import AuditLog, LoginAttempt, User, WebSession
from bot.db.session import make_engine, make_session_factory, migrate
from bot.services import users as users_service
from bot.services.users import (
    DuplicateUser,
    InvalidCredentials,
    InvalidUser,
    LoginThrottled,
    authenticate,
    create_user,
    hash_password,
    verify_password,
)
from bot.web.app import create_app
from bot.web.auth import (
    SESSION_COOKIE,
    AdminApi,
    AdminPage,
    AgentApi,
    AgentPage,
    csrf_protect,
    current_user_optional,
    session_csrf,
)
from bot.web.routes.auth import safe_next
from tests.console_support import DEFAULT_PASSWORD, login, make_user
from tests.support import FIXED_NOW, make_settings

AGENT, ADMIN = "agent@example.com", "admin@example.com"


class Clock:
    """The app's clock, moved by the tests."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def add_probe_routes(app: FastAPI) -> None:
    """Routes guarded by each dependency, as the console routes use them."""

    @app.get("/console/_probe/page")
    def agent_page(user: AgentPage) -> dict[str, str]:
        return {"email": user.email}

    @app.get("/console/_probe/admin-page")
    def admin_page(user: AdminPage) -> dict[str, str]:
        return {"email": user.email}

    @app.get("/console/_probe/admin-api")
    def admin_api(user: AdminApi) -> dict[str, str]:
        return {"email": user.email}

    @app.get("/console/_probe/optional")
    def optional(request: Request) -> dict[str, Any]:
        user = current_user_optional(request)
        return {"email": user.email if user else None, "csrf": session_csrf(request)}

    # CSRF first in the decorator (FastAPI resolves these before the parameters) ...
    @app.post("/console/_probe/action", dependencies=[Depends(csrf_protect)])
    def action(user: AgentApi) -> dict[str, str]:
        return {"email": user.email}

    # ... and after the session check, with a form body.
    @app.post("/console/_probe/form")
    def form_action(
        user: AgentPage, _: Annotated[None, Depends(csrf_protect)], note: Annotated[str, Form()] = ""
    ) -> dict[str, str]:
        return {"email": user.email, "note": note}


def start(tmp_path: Path, clock: Clock, **settings: Any) -> Iterator[TestClient]:
    config = make_settings(tmp_path, **settings)
    migrate(config.database_url)
    engine = make_engine(config.database_url)
    factory = make_session_factory(engine)
    app = create_app(config, clock=clock)
    add_probe_routes(app)
    with TestClient(app, follow_redirects=False) as client:
        client.session_factory = factory  # type: ignore[attr-defined]
        make_user(factory, AGENT, "agent", name="Agen Satu")
        make_user(factory, ADMIN, "admin")
        yield client
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(FIXED_NOW)


@pytest.fixture
def client(tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    yield from start(tmp_path, clock)


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    config = make_settings(tmp_path)
    migrate(config.database_url)
    engine = make_engine(config.database_url)
    yield make_session_factory(engine)
    engine.dispose()


def factory_of(client: TestClient) -> sessionmaker[Session]:
    return client.session_factory  # type: ignore[attr-defined]


def post_login(client: TestClient, email: str, password: str, **extra: Any) -> Any:
    headers = extra.pop("headers", None)
    return client.post("/console/login", data={"email": email, "password": password, **extra}, headers=headers)


def session_cookie_header(response: Any) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}=")]
    return header


def attempts(factory: sessionmaker[Session], email: str) -> list[bool]:
    with factory() as session:
        return list(session.scalars(select(LoginAttempt.succeeded).where(LoginAttempt.email == email)))


def audit_actions(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


# ---------------------------------------------------------------------------------------------------
# Passwords and users


def test_password_hash_is_argon2id_and_verifies_only_the_password() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert hashed != hash_password("correct horse battery")  # salted
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "correct horse batterY")
    assert not verify_password("not a hash", "correct horse battery")


def test_create_user_normalises_the_email_and_stores_only_a_hash(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        user = create_user(session, email="  Rina.Wati@Example.COM ", password="sebelas-dua-belas", role="agent")
    with factory() as session:
        stored = session.get(User, user.id)
        assert stored is not None
        assert (stored.email, stored.role, stored.active, stored.name) == ("rina.wati@example.com", "agent", True, None)
        assert stored.password_hash != "sebelas-dua-belas" and verify_password(
            stored.password_hash, "sebelas-dua-belas"
        )
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "user.created"))
        assert entry is not None and entry.details == {"email": "rina.wati@example.com", "role": "agent"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "not-an-email"}, "is not an email address"),
        ({"email": "rina@localhost"}, "is not an email address"),
        ({"email": "rina wati@example.com"}, "is not an email address"),
        ({"email": ""}, "is not an email address"),
        ({"email": "a" * 250 + "@example.com"}, "is not an email address"),
        ({"role": "boss"}, "role must be one of admin, agent"),
        ({"password": "short-pass"}, "at least 12 characters"),
        ({"password": "x" * 20}, "one character repeated"),
        ({"password": "p" * 1025 + "q"}, "at most 1024 characters"),
        ({"name": "n" * 201}, "name must be at most 200 characters"),
    ],
)
def test_create_user_refuses_invalid_input(factory: sessionmaker[Session], changes: dict, message: str) -> None:
    values = {"email": "rina@example.com", "password": "sebelas-dua-belas", "role": "agent"} | changes
    with factory() as session, pytest.raises(InvalidUser, match=message):
        create_user(session, **values)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_a_second_user_with_the_same_email_in_any_case_is_refused(factory: sessionmaker[Session]) -> None:
    make_user(factory, "rina@example.com", "agent")
    with factory() as session, pytest.raises(DuplicateUser, match="rina@example.com.*already exists"):
        create_user(session, email="RINA@example.com", password="another-password", role="admin")


# ---------------------------------------------------------------------------------------------------
# authenticate()


def attempt(
    factory: sessionmaker[Session],
    email: str,
    password: str,
    *,
    address: str | None = "10.0.0.1",
    at: datetime = FIXED_NOW,
) -> User:
    """authenticate() as the login route calls it: the attempt is committed also when refused."""
    with factory() as session:
        try:
            return authenticate(session, email=email, password=password, address=address, now=at)
        finally:
            session.commit()


def test_authenticate_returns_the_user_and_records_each_attempt(factory: sessionmaker[Session]) -> None:
    make_user(factory, "rina@example.com", "agent")
    with pytest.raises(InvalidCredentials):
        attempt(factory, "rina@example.com", "wrong password!")
    assert attempt(factory, " Rina@Example.com", DEFAULT_PASSWORD).email == "rina@example.com"
    assert attempts(factory, "rina@example.com") == [False, True]


def test_unknown_email_is_checked_against_a_dummy_hash(factory: sessionmaker[Session], monkeypatch) -> None:
    checked: list[str] = []
    real = users_service.verify_password
    monkeypatch.setattr(users_service, "verify_password", lambda h, p: checked.append(h) or real(h, p))
    with pytest.raises(InvalidCredentials, match="wrong email or password"):
        attempt(factory, "nobody@example.com", DEFAULT_PASSWORD)
    assert len(checked) == 1 and checked[0].startswith("$argon2id$")  # the same work as for a real user
    assert attempts(factory, "nobody@example.com") == [False]


def test_an_inactive_user_cannot_log_in_even_with_the_right_password(factory: sessionmaker[Session]) -> None:
    make_user(factory, "rina@example.com", "agent", active=False)
    with pytest.raises(InvalidCredentials):
        attempt(factory, "rina@example.com", DEFAULT_PASSWORD)
    assert attempts(factory, "rina@example.com") == [False]


def test_five_failures_for_an_email_lock_it_from_that_address_until_the_window_passes(
    factory: sessionmaker[Session],
) -> None:
    make_user(factory, "rina@example.com", "agent")

    def at(minutes: float) -> datetime:
        return FIXED_NOW + timedelta(minutes=minutes)

    for minute in range(5):
        with pytest.raises(InvalidCredentials):
            attempt(factory, "rina@example.com", "wrong password!", at=at(minute))
    # The right password, from the same address: refused without being checked.
    with pytest.raises(LoginThrottled) as refused:
        attempt(factory, "rina@example.com", DEFAULT_PASSWORD, at=at(5))
    # The failure at minute 1 is the one that has to leave the 15-minute window: at minute 16.
    assert refused.value.retry_after_seconds == 11 * 60
    # From another address the lock does not apply, only a few seconds' slow-down (six failures
    # for the email: 4 seconds after the newest; tests/security/test_login_throttle.py has the rest).
    assert attempt(factory, "rina@example.com", DEFAULT_PASSWORD, address="10.9.9.9", at=at(5.5)).email
    # ... and that login does not unlock the first address.
    with pytest.raises(LoginThrottled):
        attempt(factory, "rina@example.com", DEFAULT_PASSWORD, at=at(6))
    assert attempt(factory, "rina@example.com", DEFAULT_PASSWORD, at=at(21)).email == "rina@example.com"
    assert attempts(factory, "rina@example.com") == [False] * 6 + [True, False, True]


def test_refused_attempts_count_so_guessing_on_keeps_the_lock(factory: sessionmaker[Session]) -> None:
    make_user(factory, "rina@example.com", "agent")
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            attempt(factory, "rina@example.com", "wrong password!")
    for minute in (2, 4, 6, 8, 10):
        with pytest.raises(LoginThrottled):
            attempt(factory, "rina@example.com", "wrong password!", at=FIXED_NOW + timedelta(minutes=minute))
    # The first failures have left the window, but the five refusals since are in it.
    with pytest.raises(LoginThrottled) as refused:
        attempt(factory, "rina@example.com", DEFAULT_PASSWORD, at=FIXED_NOW + timedelta(minutes=16))
    assert refused.value.retry_after_seconds == 3 * 60  # the refusal at minute 4 leaves at minute 19
    assert attempt(factory, "rina@example.com", DEFAULT_PASSWORD, at=FIXED_NOW + timedelta(minutes=19))


def test_a_successful_login_clears_the_count_for_the_email(factory: sessionmaker[Session]) -> None:
    make_user(factory, "rina@example.com", "agent")
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            attempt(factory, "rina@example.com", "wrong password!")
    attempt(factory, "rina@example.com", DEFAULT_PASSWORD)
    later = FIXED_NOW + timedelta(seconds=1)
    with pytest.raises(InvalidCredentials):
        attempt(factory, "rina@example.com", "wrong password!", at=later)
    assert attempt(factory, "rina@example.com", DEFAULT_PASSWORD, at=later)


def test_twenty_failures_from_one_address_lock_that_address(factory: sessionmaker[Session]) -> None:
    make_user(factory, "rina@example.com", "agent")
    for n in range(20):  # a different email each time: the per-email limit never applies
        with pytest.raises(InvalidCredentials):
            attempt(factory, f"guess{n}@example.com", "x" * 12, address="6.6.6.6")
    with pytest.raises(LoginThrottled) as refused:
        attempt(factory, "rina@example.com", DEFAULT_PASSWORD, address="6.6.6.6")
    assert refused.value.retry_after_seconds == 15 * 60
    assert attempt(factory, "rina@example.com", DEFAULT_PASSWORD, address="10.0.0.1")
    later = FIXED_NOW + timedelta(minutes=15, seconds=1)
    assert attempt(factory, "rina@example.com", DEFAULT_PASSWORD, address="6.6.6.6", at=later)


def test_a_hash_with_old_parameters_is_upgraded_at_login(factory: sessionmaker[Session]) -> None:
    user = make_user(factory, "rina@example.com", "agent")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(DEFAULT_PASSWORD)
    with factory.begin() as session:
        session.get_one(User, user.id).password_hash = weak
    attempt(factory, "rina@example.com", DEFAULT_PASSWORD)
    with factory() as session:
        upgraded = session.get_one(User, user.id).password_hash
    assert upgraded != weak and "m=65536,t=3,p=4" in upgraded and verify_password(upgraded, DEFAULT_PASSWORD)


# ---------------------------------------------------------------------------------------------------
# Login over HTTP


def test_login_page_is_a_form_that_keeps_a_console_next(client: TestClient) -> None:
    page = client.get("/console/login", params={"next": "/console/conversations/7"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'name="email"' in page.text and 'type="password"' in page.text
    assert '<input type="hidden" name="next" value="/console/conversations/7">' in page.text
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"


def test_login_sets_an_httponly_samesite_session_cookie_and_stores_only_its_hash(client: TestClient) -> None:
    response = post_login(client, AGENT, DEFAULT_PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/console"
    cookie = session_cookie_header(response)
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path", "max-age"} <= attributes and "secure" not in attributes  # test settings: http
    assert "samesite=lax" in cookie.lower() and "Path=/" in cookie and "Max-Age=43200" in cookie
    token = client.cookies[SESSION_COOKIE]
    with factory_of(client)() as session:
        stored = session.scalars(select(WebSession)).one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash
        assert stored.expires_at == FIXED_NOW + timedelta(hours=12) and stored.revoked_at is None
    me = client.get("/console/api/me")
    assert me.status_code == 200
    assert me.json() == {
        "id": stored.user_id,
        "email": AGENT,
        "name": "Agen Satu",
        "role": "agent",
        "csrf_token": stored.csrf_token,
    }
    assert audit_actions(factory_of(client))[-1] == "user.login"
    assert attempts(factory_of(client), AGENT) == [True]


PRODUCTION_SECRETS = ("TAGIH_SECRET_KEY", "TAGIH_ACTION_TOKEN", "TAGIH_RASA_TOKEN")


def test_the_cookie_is_secure_in_production(tmp_path: Path, clock: Clock) -> None:
    production = {
        "TAGIH_ENV": "production",
        **{name: SecretStr(f"{name.lower()}-a-real-one-for-this-test") for name in PRODUCTION_SECRETS},
    }
    for client in start(tmp_path, clock, **production):
        response = post_login(client, AGENT, DEFAULT_PASSWORD)
        assert response.status_code == 303
        cookie = session_cookie_header(response)
        assert "; secure" in cookie.lower() and "; httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


def test_the_session_lifetime_comes_from_settings(tmp_path: Path, clock: Clock) -> None:
    for client in start(tmp_path, clock, TAGIH_SESSION_HOURS=2):
        assert "Max-Age=7200" in session_cookie_header(post_login(client, AGENT, DEFAULT_PASSWORD))
        clock.advance(hours=2)
        assert client.get("/console/api/me").status_code == 401


def test_a_wrong_password_shows_the_form_again_with_401(client: TestClient) -> None:
    for email, password in [(AGENT, "wrong password!"), ("nobody@example.com", DEFAULT_PASSWORD)]:
        response = post_login(client, email, password, next="/console/x")
        assert response.status_code == 401
        assert "Wrong email or password" in response.text and f'value="{email}"' in response.text
        assert 'name="next" value="/console/x"' in response.text
        assert not response.headers.get_list("set-cookie") and SESSION_COOKIE not in client.cookies
    assert client.get("/console/api/me").status_code == 401


def test_an_empty_form_is_answered_without_an_attempt(client: TestClient) -> None:
    response = post_login(client, AGENT, "")
    assert response.status_code == 400 and "Enter your email and password" in response.text
    assert attempts(factory_of(client), AGENT) == []


def test_after_five_failures_even_the_right_password_gets_429_until_the_window_passes(
    client: TestClient, clock: Clock
) -> None:
    for _ in range(5):
        assert post_login(client, AGENT, "wrong password!").status_code == 401
    refused = post_login(client, AGENT, DEFAULT_PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "900"
    assert "Too many failed logins. Try again in 15 minutes." in refused.text
    assert SESSION_COOKIE not in client.cookies
    clock.advance(minutes=14, seconds=59)
    assert post_login(client, AGENT, DEFAULT_PASSWORD).status_code == 429
    clock.advance(minutes=15, seconds=1)  # 15 minutes after the last refusal, which counted too
    assert post_login(client, AGENT, DEFAULT_PASSWORD).status_code == 303
    assert client.get("/console/api/me").json()["email"] == AGENT


def test_an_inactive_user_is_refused_at_login_and_loses_open_sessions(client: TestClient) -> None:
    login(client, AGENT)
    with factory_of(client).begin() as session:
        session.scalars(select(User).where(User.email == AGENT)).one().active = False
    assert client.get("/console/api/me").status_code == 401  # the open session died with the account
    response = post_login(client, AGENT, DEFAULT_PASSWORD)
    assert response.status_code == 401 and "Wrong email or password" in response.text


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://testserver.evil.example", "null", "http://testserver:8080"]
)
def test_a_login_posted_from_another_site_is_refused(client: TestClient, origin: str) -> None:
    response = post_login(client, AGENT, DEFAULT_PASSWORD, headers={"Origin": origin})
    assert response.status_code == 403 and "another site" in response.text
    assert SESSION_COOKIE not in client.cookies and attempts(factory_of(client), AGENT) == []


def test_a_login_from_the_same_site_or_the_public_url_is_accepted(tmp_path: Path, clock: Clock) -> None:
    for client in start(tmp_path, clock, TAGIH_PUBLIC_URL="https://collect.example.co.id"):
        assert post_login(client, AGENT, DEFAULT_PASSWORD, headers={"Origin": "http://testserver"}).status_code == 303
        client.cookies.clear()
        response = post_login(client, AGENT, DEFAULT_PASSWORD, headers={"Origin": "https://collect.example.co.id"})
        assert response.status_code == 303


def test_logging_in_again_revokes_the_previous_session(client: TestClient) -> None:
    login(client, AGENT)
    first = client.cookies[SESSION_COOKIE]
    login(client, AGENT)
    assert client.cookies[SESSION_COOKIE] != first
    with factory_of(client)() as session:
        revoked = session.scalar(
            select(WebSession.revoked_at).where(WebSession.token_hash == hashlib.sha256(first.encode()).hexdigest())
        )
    assert revoked == FIXED_NOW


def test_the_login_page_sends_a_logged_in_user_on(client: TestClient) -> None:
    login(client, AGENT)
    assert client.get("/console/login").headers["location"] == "/console"
    assert client.get("/console/login", params={"next": "/console/q"}).headers["location"] == "/console/q"


# ---------------------------------------------------------------------------------------------------
# Redirects and next


def test_a_page_without_a_session_redirects_to_login_and_back(client: TestClient) -> None:
    response = client.get("/console/_probe/page", params={"x": "1"})
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=%2Fconsole%2F_probe%2Fpage%3Fx%3D1"
    form = client.get(response.headers["location"])
    assert 'name="next" value="/console/_probe/page?x=1"' in form.text
    back = post_login(client, AGENT, DEFAULT_PASSWORD, next="/console/_probe/page?x=1")
    assert back.headers["location"] == "/console/_probe/page?x=1"
    assert client.get(back.headers["location"]).json() == {"email": AGENT}


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example/console",
        "/\\evil.example",
        "https://testserver/console",
        "/chat",
        "/consolex",
        "javascript:alert(1)",
        "/console\r\nSet-Cookie: x=1",
    ],
)
def test_next_outside_the_console_is_ignored(client: TestClient, target: str) -> None:
    assert safe_next(target) is None
    response = post_login(client, AGENT, DEFAULT_PASSWORD, next=target)
    assert response.status_code == 303 and response.headers["location"] == "/console"


@pytest.mark.parametrize("target", ["/console", "/console/conversations/3", "/console?tab=mine", "/console/#top"])
def test_console_paths_are_accepted_as_next(target: str) -> None:
    assert safe_next(target) == target


def test_the_login_form_does_not_echo_a_foreign_next(client: TestClient) -> None:
    page = client.get("/console/login", params={"next": "https://evil.example"})
    assert 'name="next" value=""' in page.text and "evil.example" not in page.text


# ---------------------------------------------------------------------------------------------------
# Roles


def test_api_routes_need_a_session_and_admin_routes_an_admin(client: TestClient) -> None:
    assert client.get("/console/api/me").json() == {"detail": "login required"}
    assert client.get("/console/_probe/admin-api").status_code == 401
    assert client.get("/console/_probe/optional").json() == {"email": None, "csrf": None}
    csrf = login(client, AGENT)
    assert client.get("/console/_probe/optional").json() == {"email": AGENT, "csrf": csrf}
    refused = client.get("/console/_probe/admin-api")
    assert (refused.status_code, refused.json()) == (403, {"detail": "admins only"})
    page = client.get("/console/_probe/admin-page")
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "Admins only" in page.text
    client.cookies.clear()
    login(client, ADMIN)
    assert client.get("/console/_probe/admin-api").json() == {"email": ADMIN}
    assert client.get("/console/_probe/admin-page").json() == {"email": ADMIN}


def test_a_made_up_cookie_is_no_session(client: TestClient) -> None:
    for token in ["made-up", "x" * 5000]:
        response = client.get("/console/api/me", headers={"Cookie": f"{SESSION_COOKIE}={token}"})
        assert response.status_code == 401


# ---------------------------------------------------------------------------------------------------
# Expiry and logout


def test_a_session_expires_after_twelve_hours(client: TestClient, clock: Clock) -> None:
    login(client, AGENT)
    clock.advance(hours=11, minutes=59)
    assert client.get("/console/api/me").status_code == 200
    clock.advance(minutes=1)
    assert client.get("/console/api/me").json() == {"detail": "login required"}
    assert client.get("/console/_probe/page").status_code == 303


def test_logout_revokes_the_session_so_the_old_cookie_is_useless(client: TestClient) -> None:
    csrf = login(client, AGENT)
    token = client.cookies[SESSION_COOKIE]
    response = client.post("/console/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/console/login"
    cleared = session_cookie_header(response)
    assert "Max-Age=0" in cleared or "expires=" in cleared.lower()
    assert SESSION_COOKIE not in client.cookies
    with factory_of(client)() as session:
        assert session.scalars(select(WebSession)).one().revoked_at == FIXED_NOW
    assert audit_actions(factory_of(client))[-2:] == ["user.login", "user.logout"]
    replay = client.get("/console/api/me", headers={"Cookie": f"{SESSION_COOKIE}={token}"})
    assert (replay.status_code, replay.json()) == (401, {"detail": "login required"})


def test_logout_without_a_session_just_goes_to_the_login_page(client: TestClient) -> None:
    response = client.post("/console/logout")
    assert response.status_code == 303 and response.headers["location"] == "/console/login"


# ---------------------------------------------------------------------------------------------------
# CSRF


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({}, 403),
        ({"headers": {"X-CSRF-Token": "wrong"}}, 403),
        ({"data": {"csrf_token": "wrong"}}, 403),
        ({"headers": {"X-CSRF-Token": ""}}, 403),
        ({"headers": {"X-CSRF-Token": "@csrf"}}, 303),
        ({"data": {"csrf_token": "@csrf"}}, 303),
    ],
)
def test_logout_needs_the_sessions_csrf_token(client: TestClient, kwargs: dict, status: int) -> None:
    csrf = login(client, AGENT)
    filled = {key: {k: csrf if v == "@csrf" else v for k, v in value.items()} for key, value in kwargs.items()}
    response = client.post("/console/logout", **filled)
    assert response.status_code == status
    if status == 403:
        assert response.json() == {"detail": "CSRF token missing or invalid"}
        assert client.get("/console/api/me").status_code == 200  # still logged in
    else:
        assert client.get("/console/api/me").status_code == 401


def test_another_sessions_csrf_token_does_not_count(client: TestClient) -> None:
    other = TestClient(client.app, follow_redirects=False)
    other_csrf = login(other, ADMIN)
    login(client, AGENT)
    response = client.post("/console/_probe/action", headers={"X-CSRF-Token": other_csrf})
    assert response.status_code == 403


def test_csrf_is_checked_after_the_session_whatever_the_dependency_order(client: TestClient) -> None:
    # No session: 401 (API) or the login redirect (page), never the CSRF 403.
    assert client.post("/console/_probe/action").json() == {"detail": "login required"}
    assert client.post("/console/_probe/form", data={"note": "hi"}).status_code == 303
    csrf = login(client, AGENT)
    assert client.post("/console/_probe/action").status_code == 403
    assert client.post("/console/_probe/action", headers={"X-CSRF-Token": csrf}).json() == {"email": AGENT}
    assert client.post("/console/_probe/form", data={"note": "hi"}).status_code == 403
    ok = client.post("/console/_probe/form", data={"note": "hi", "csrf_token": csrf})
    assert ok.json() == {"email": AGENT, "note": "hi"}


def test_safe_methods_need_no_csrf_token(client: TestClient) -> None:
    login(client, AGENT)
    assert client.get("/console/_probe/page").status_code == 200
