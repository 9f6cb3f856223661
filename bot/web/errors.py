"""The error tree mapped to HTTP, once: every ``TagihError`` a route lets through is answered here
with its status and a JSON body ``{"detail", "code"?, "problems"?}`` (``problems`` when the input
had several faults, or faults with a place: ``[{"line"?, "field"?, "message"}]``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bot.errors import (
    ConflictError,
    DialogueUnavailableError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    TagihError,
    UnavailableError,
)

STATUS: tuple[tuple[type[TagihError], int], ...] = (
    (NotFoundError, 404),
    (InvalidInputError, 422),
    (ConflictError, 409),
    (ForbiddenError, 403),
    (UnavailableError, 503),
)
DIALOGUE_DOWN = "the dialogue engine is unavailable; your message was saved, please retry"


def status_of(exc: TagihError) -> int:
    return next((status for kind, status in STATUS if isinstance(exc, kind)), 400)


def body_of(exc: TagihError) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": DIALOGUE_DOWN if isinstance(exc, DialogueUnavailableError) else str(exc)}
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        body["code"] = code
    if isinstance(exc, InvalidInputError):
        placed = any(p.line is not None or p.field for p in exc.problems)
        if placed or len(exc.problems) > 1:
            body["problems"] = [p.as_dict() for p in exc.problems]
    return body


async def _answer(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TagihError)
    return JSONResponse(body_of(exc), status_code=status_of(exc))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TagihError, _answer)
