"""Security headers on every response, and the per-request nonce that lets a page run its scripts.

The Content-Security-Policy allows scripts and styles only from this site or inline blocks that carry
the request's nonce (``<script nonce="{{ csp_nonce }}">``, see :func:`csp_nonce`): markup injected
into a page (a debtor's message, an example text) cannot run, because it cannot know the nonce. No
page may be framed (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``) so the console and the
admin editor cannot be click-jacked; ``nosniff`` stops a JSON or text answer being run as a script;
the referrer never carries a path (a conversation id) to another site. With an https public URL,
browsers are told to use https only (HSTS).

A pure ASGI middleware rather than ``BaseHTTPMiddleware``: it touches only the response start, so
streamed answers (the console's server-sent events) pass through untouched.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from fastapi import FastAPI, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.settings import Settings

__all__ = [
    "HSTS",
    "NONCE_STATE_KEY",
    "REFERRER_POLICY",
    "SecurityHeaders",
    "content_security_policy",
    "csp_nonce",
    "install_security_headers",
]

NONCE_STATE_KEY = "csp_nonce"
REFERRER_POLICY = "strict-origin-when-cross-origin"  # keeps Origin on same-site posts (the login checks it)
HSTS = "max-age=31536000"


def content_security_policy(nonce: str) -> str:
    """The policy for a response whose inline scripts and styles carry ``nonce``."""
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",  # Swagger UI's icons are data: URLs
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def csp_nonce(request: Request) -> str:
    """The nonce of this request's policy, for ``nonce="..."`` on inline ``<script>``/``<style>``."""
    return str(request.scope.get("state", {}).get(NONCE_STATE_KEY, ""))


class SecurityHeaders:
    """Adds the security headers to every HTTP response; a header the route set itself is kept."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    def headers(self, nonce: str) -> Iterable[tuple[str, str]]:
        yield "Content-Security-Policy", content_security_policy(nonce)
        yield "X-Content-Type-Options", "nosniff"
        yield "X-Frame-Options", "DENY"
        yield "Referrer-Policy", REFERRER_POLICY
        if self.hsts:
            yield "Strict-Transport-Security", HSTS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})[NONCE_STATE_KEY] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers(nonce):
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(app: FastAPI, settings: Settings) -> None:
    """Wrap ``app`` in :class:`SecurityHeaders` (HSTS when the public URL is https)."""
    app.add_middleware(SecurityHeaders, hsts=(settings.public_url or "").lower().startswith("https://"))
