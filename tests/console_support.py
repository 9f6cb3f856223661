"""Console test helpers: users in the database and a logged-in client.

``login`` works with a FastAPI ``TestClient`` or an ``httpx.Client`` aimed at the app; the client
keeps the session cookie, and the returned CSRF token goes into ``X-CSRF-Token`` (or a ``csrf_token``
form field) of state-changing requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import User
from bot.services.users import create_user

DEFAULT_PASSWORD = "correct horse battery"


def make_user(
    session_factory: sessionmaker[Session],
    email: str,
    role: str,
    password: str = DEFAULT_PASSWORD,
    *,
    name: str | None = None,
    active: bool = True,
) -> User:
    """A committed console user (``role`` 'agent' or 'admin')."""
    with session_factory.begin() as session:
        user = create_user(session, email=email, password=password, role=role, name=name, actor="test")
        user.active = active
    return user


def login(client: httpx.Client | Any, email: str, password: str = DEFAULT_PASSWORD) -> str:
    """Log ``client`` in through the login form and return the session's CSRF token."""
    response = client.post("/console/login", data={"email": email, "password": password}, follow_redirects=False)
    assert response.status_code == 303, f"login as {email} failed: {response.status_code} {response.text[:300]}"
    me = client.get("/console/api/me")
    assert me.status_code == 200, me.text
    return me.json()["csrf_token"]


def login_in_browser(page: Any, base_url: str, email: str, path: str = "/admin") -> None:
    """Open ``path`` in the Playwright ``page``, log in on the form it redirects to, and wait to be back."""
    page.goto(f"{base_url}{path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{path}")


@contextmanager
def logged_in_clients(app: Any) -> Iterator[Callable[[str | None], tuple[Any, str | None]]]:
    """Open app clients, logged in as a user (CSRF token returned) or anonymous (``None``); every
    client is closed, and the app's lifespan ended, on exit."""
    from fastapi.testclient import TestClient

    opened: list[TestClient] = []

    def open_client(email: str | None = None) -> tuple[TestClient, str | None]:
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        opened.append(client)
        return client, (login(client, email) if email else None)

    try:
        yield open_client
    finally:
        for client in opened:
            client.__exit__(None, None, None)
