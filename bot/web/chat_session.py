"""Web chat sessions: the app, not the page, says who a visitor is.

The first visit to ``/chat`` gets a random session id in the ``tagih_chat`` cookie, signed with the
app's secret (HMAC-SHA256) together with when it was issued, HttpOnly (the page's script never sees
it) and SameSite=Lax. The session id is the web chat sender id, so the same browser finds its
conversation again after a reload or later the same day; a cookie that was altered, forged or is
older than ``TAGIH_WEBCHAT_SESSION_HOURS`` is ignored and a new session starts. Session ids start
with ``page-``, a prefix REST API clients may not use as their ``sender``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from fastapi import Response

from bot.settings import Settings
from bot.web.auth import secure_cookies

COOKIE = "tagih_chat"
PREFIX = "page-"
MAX_COOKIE_CHARS = 200


@dataclass(frozen=True)
class ChatSession:
    id: str
    issued_at: datetime


def _signature(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(secret: str, now: datetime) -> tuple[ChatSession, str]:
    """A new session and its cookie value."""
    session = ChatSession(PREFIX + secrets.token_urlsafe(18), now.replace(microsecond=0))
    body = f"{session.id}.{int(session.issued_at.timestamp())}"
    return session, f"{body}.{_signature(secret, body)}"


def read(secret: str, value: str | None, *, now: datetime, hours: int) -> ChatSession | None:
    """The session a cookie value proves, or None (missing, malformed, forged or expired)."""
    if not value or len(value) > MAX_COOKIE_CHARS or not value.isascii() or value.count(".") != 2:
        return None
    session_id, issued, signature = value.split(".")
    if not session_id.startswith(PREFIX) or not issued.isdigit():
        return None
    if not hmac.compare_digest(signature, _signature(secret, f"{session_id}.{issued}")):
        return None
    issued_at = datetime.fromtimestamp(int(issued), timezone.utc)
    if not issued_at - timedelta(minutes=5) <= now < issued_at + timedelta(hours=hours):
        return None
    return ChatSession(session_id, issued_at)


def set_cookie(response: Response, value: str, settings: Settings, *, issued_at: datetime, now: datetime) -> None:
    remaining = issued_at + timedelta(hours=settings.webchat_session_hours) - now
    response.set_cookie(
        COOKIE,
        value,
        max_age=max(int(remaining.total_seconds()), 1),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )


def clear_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings))
