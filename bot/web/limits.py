"""Limits on what the app accepts from outside: how big a request body may be, how often the web
chat may be written to, and a last answer for JSON nested too deeply to handle.

The body cap is an ASGI middleware, so it acts before any route reads the body: a declared
``Content-Length`` over the cap is answered 413 at once, and a body sent without one (chunked) is
cut off with 413 as soon as it passes the cap. The web chat needs no credentials, so its turns are
rate-limited per sender id and per client address, in memory (per app process).
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.settings import Settings

# Routes whose bodies are legitimately large: an admin's flow file (up to 2,000,000 characters of
# YAML) and a bulk account upsert (up to 10,000 rows).
UPLOAD_PATHS = ("/admin/api/flows/files", "/api/accounts")


class BodyTooLarge(Exception):
    """Raised into the app from ``receive`` when a streamed body passes the cap."""


async def _refuse(send: Send, status: int, reason: str) -> None:
    body = json.dumps({"detail": reason}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),  # the rest of the body is never read
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length header as a number; -1 when it is not one."""
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            return int(value) if value.isdigit() and len(value) <= 18 else -1
    return None


class BodyLimit:
    """Caps request bodies at ``default`` bytes, or at the size given for a path in ``larger``."""

    def __init__(self, app: ASGIApp, *, default: int, larger: Iterable[tuple[str, int]] = ()) -> None:
        self.app = app
        self.default = default
        self.larger = tuple(larger)

    def cap(self, path: str) -> int:
        for prefix, cap in self.larger:
            if path == prefix or path.startswith(prefix + "/"):
                return cap
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap(scope["path"])
        too_large = f"request body larger than {cap} bytes"
        declared = _declared_length(scope)
        if declared == -1:
            await _refuse(send, 400, "Content-Length is not a number")
            return
        if declared is not None and declared > cap:
            await _refuse(send, 413, too_large)
            return
        received = 0
        exceeded = started = False

        async def capped_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    exceeded = True
                    raise BodyTooLarge(too_large)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the app answers to a body it never got in full, ours goes instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _refuse(send, 413, too_large)


class RateLimiter:
    """Token buckets by key (a sender id, an address) that refuse instead of waiting.

    Unlike the outbound buckets in ``bot.messaging.ratelimit``, which make our own sends wait, an
    inbound request over its rate is answered at once with the time until it would be allowed.
    Keys come from the outside, so at most ``max_keys`` buckets are kept; the least recently used
    go first (a forgotten bucket is a full one). ``per_minute`` 0 switches the limit off.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        burst: float | None = None,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = burst if burst is not None else max(1.0, per_minute / 2)
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """0 when a request for ``key`` may go ahead now (it is counted); otherwise the seconds
        until it may (nothing is counted)."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        tokens, updated = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - updated) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


@dataclass
class WebChatLimits:
    """The web chat's two limits: a sender id typing too fast, and one address (a script making
    up sender ids) writing too much."""

    senders: RateLimiter
    addresses: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> WebChatLimits:
        return cls(
            senders=RateLimiter(settings.webchat_sender_per_minute, clock=clock),
            addresses=RateLimiter(settings.webchat_address_per_minute, clock=clock),
        )

    def check_address(self, address: str) -> None:
        _refuse_when(self.addresses.take(address), "too many web chat messages from this address")

    def check_sender(self, sender: str) -> None:
        _refuse_when(self.senders.take(sender), "too many messages from this sender")


def _refuse_when(wait: float, reason: str) -> None:
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise HTTPException(429, f"{reason}; try again in {seconds} s", headers={"Retry-After": str(seconds)})


def client_address(request: Request) -> str:
    """The peer's address: behind a reverse proxy, run uvicorn with ``--proxy-headers`` or every
    debtor shares the proxy's address (and its limit)."""
    return request.client.host if request.client is not None else "unknown"


def get_webchat_limits(request: Request) -> WebChatLimits:
    return request.app.state.webchat_limits


async def _nested_too_deeply(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "JSON nested too deeply"}, status_code=400)


def install_limits(app: FastAPI, settings: Settings) -> None:
    """Cap request bodies, keep the web chat's rate limits on the app, and answer a RecursionError
    (JSON nested deeper than the stack, in a route that did not check) with 400 rather than 500."""
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        larger=[(path, settings.max_upload_bytes) for path in UPLOAD_PATHS],
    )
    app.state.webchat_limits = WebChatLimits.from_settings(settings)
    app.add_exception_handler(RecursionError, _nested_too_deeply)
