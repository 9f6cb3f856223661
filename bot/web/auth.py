"""Console authentication: cookie sessions, role checks and CSRF protection.

A login creates a ``web_sessions`` row. The browser holds a random token in the ``tagih_session``
cookie (HttpOnly, SameSite=Lax; Secure in production and whenever ``TAGIH_PUBLIC_URL`` is https); the
database holds only its SHA-256, so a leaked database or backup cannot be replayed as a login. Each
session has its own CSRF token, which state-changing requests send back as ``X-CSRF-Token`` or a
``csrf_token`` form field.

Routes declare who may call them with the ``Annotated`` aliases: ``AgentApi`` / ``AdminApi`` answer
401/403 JSON, ``AgentPage`` / ``AdminPage`` redirect to the login page or show a short HTML refusal
(through the handlers :func:`install_auth` registers).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from bot.db.models import User, WebSession
from bot.settings import Settings
from bot.web.deps import get_clock
from bot.web.headers import csp_nonce

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LOGIN_PATH",
    "SESSION_COOKIE",
    "AdminApi",
    "AdminPage",
    "AdminPageRefused",
    "AgentApi",
    "AgentPage",
    "LoginRequired",
    "clear_session_cookie",
    "csrf_protect",
    "current_session_optional",
    "current_user_optional",
    "end_session",
    "find_session",
    "install_auth",
    "secure_cookies",
    "session_csrf",
    "set_session_cookie",
    "start_session",
    "token_hash",
]

SESSION_COOKIE = "tagih_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LOGIN_PATH = "/console/login"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_TOKEN_CHARS = 128  # token_urlsafe(32) is 43 characters; anything much longer is not ours
_STATE_KEY = "tagih_web_session"
_UNSET: Any = object()
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


# ---------------------------------------------------------------------------------------------------
# Sessions in the database


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, *, user: User, now: datetime, hours: int) -> tuple[str, WebSession]:
    """A new session for ``user``: the cookie token (returned once, never stored) and the row."""
    token = secrets.token_urlsafe(32)
    web_session = WebSession(
        token_hash=token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(web_session)
    session.flush()
    return token, web_session


def find_session(session: Session, token: str, *, now: datetime) -> WebSession | None:
    """The live session for a cookie token, its user loaded: not expired, not revoked, user active."""
    return session.scalar(
        select(WebSession)
        .join(WebSession.user)
        .options(joinedload(WebSession.user))
        .where(
            WebSession.token_hash == token_hash(token),
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > now,
            User.active.is_(True),
        )
    )


def end_session(session: Session, session_id: int, *, now: datetime) -> None:
    """Revoke a session (logout); revoking one already revoked keeps the first time."""
    session.execute(
        update(WebSession).where(WebSession.id == session_id, WebSession.revoked_at.is_(None)).values(revoked_at=now)
    )


# ---------------------------------------------------------------------------------------------------
# The cookie


def secure_cookies(settings: Settings) -> bool:
    """Secure (sent over https only) in production, and wherever the public URL is https whatever
    ``TAGIH_ENV`` says: a staging server on https must not let the cookie travel over plain http."""
    public_https = (settings.public_url or "").strip().lower().startswith("https://")
    return public_https or settings.environment not in ("development", "test")


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings))


# ---------------------------------------------------------------------------------------------------
# The request's session (looked up once per request)


def _request_session(request: Request) -> WebSession | None:
    """The live session named by the request's cookie, cached on the request: every dependency and
    template helper of one request sees the same answer from one query."""
    cached = getattr(request.state, _STATE_KEY, _UNSET)
    if cached is not _UNSET:
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    web_session = None
    if token and len(token) <= MAX_TOKEN_CHARS:
        with request.app.state.session_factory() as session:
            web_session = find_session(session, token, now=get_clock(request)())
    setattr(request.state, _STATE_KEY, web_session)
    return web_session


_SessionDep = Annotated[WebSession | None, Depends(_request_session)]


def current_session_optional(request: Request) -> WebSession | None:
    """The request's live session (its user loaded), or None."""
    return _request_session(request)


def current_user_optional(request: Request) -> User | None:
    """The logged-in user, or None; usable as a dependency or called directly."""
    web_session = _request_session(request)
    return web_session.user if web_session is not None else None


def session_csrf(request: Request) -> str | None:
    """The session's CSRF token for templates (a hidden ``csrf_token`` field or a meta tag)."""
    web_session = _request_session(request)
    return web_session.csrf_token if web_session is not None else None


# ---------------------------------------------------------------------------------------------------
# Who may call a route


class LoginRequired(Exception):
    """A page was requested without a live session; answered with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class AdminPageRefused(Exception):
    """An agent asked for an admin page; answered with a short HTML 403."""


def _agent_api(web_session: _SessionDep) -> User:
    if web_session is None:
        raise HTTPException(401, "login required")
    return web_session.user


def _admin_api(user: Annotated[User, Depends(_agent_api)]) -> User:
    if user.role != "admin":
        raise HTTPException(403, "admins only")
    return user


def _agent_page(request: Request, web_session: _SessionDep) -> User:
    if web_session is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    return web_session.user


def _admin_page(user: Annotated[User, Depends(_agent_page)]) -> User:
    if user.role != "admin":
        raise AdminPageRefused()
    return user


AgentApi = Annotated[User, Depends(_agent_api)]
AdminApi = Annotated[User, Depends(_admin_api)]
AgentPage = Annotated[User, Depends(_agent_page)]
AdminPage = Annotated[User, Depends(_admin_page)]


async def csrf_protect(request: Request, web_session: _SessionDep) -> None:
    """For POST/PUT/PATCH/DELETE: the session's CSRF token must come back as the ``X-CSRF-Token``
    header or a ``csrf_token`` form field, else 403.

    Without a live session it does nothing and leaves the answer (401 or the login redirect) to
    ``AgentApi`` / ``AgentPage`` and friends: so the order of the dependencies does not matter, and it
    is never a substitute for them.
    """
    if request.method not in UNSAFE_METHODS or web_session is None:
        return
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not presented or not hmac.compare_digest(presented.encode(), web_session.csrf_token.encode()):
        raise HTTPException(403, "CSRF token missing or invalid")


# ---------------------------------------------------------------------------------------------------
# Installing the handlers

_ADMIN_ONLY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Admins only - Tagih</title>
<style nonce="{nonce}">body {{ font-family: system-ui, sans-serif; margin: 3rem auto; max-width: 32rem; }}</style>
</head><body>
<h1>Admins only</h1>
<p>This page is for administrators. <a href="/console">Back to the console</a></p>
</body></html>
"""


def install_auth(app: FastAPI) -> None:
    """Register the answers to :class:`LoginRequired` and :class:`AdminPageRefused`."""

    @app.exception_handler(LoginRequired)
    async def _login_required(_: Request, exc: LoginRequired) -> Any:
        return RedirectResponse(f"{LOGIN_PATH}?{urlencode({'next': exc.next_path})}", status_code=303)

    @app.exception_handler(AdminPageRefused)
    async def _admin_only(request: Request, exc: AdminPageRefused) -> Any:
        return HTMLResponse(_ADMIN_ONLY_PAGE.format(nonce=csp_nonce(request)), status_code=403)
