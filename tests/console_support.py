"""Console test helpers: users in the database and a logged-in client.

``login`` works with a FastAPI ``TestClient`` or an ``httpx.Client`` aimed at the app; the client
keeps the session cookie, and the returned CSRF token goes into ``X-CSRF-Token`` (or a ``csrf_token``
form field) of state-changing requests.
"""

from __future__ import annotations

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
