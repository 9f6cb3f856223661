"""The web chat page and what it calls: one more channel on the same inbound pipeline.

``GET /chat`` serves the page and, on a first visit, the signed session cookie
(bot/web/chat_session.py). The page then reads the conversation so far, keeps a live connection
(server-sent events) on which agent replies, reminders and notices arrive, sends each message as a
turn that answers with the bot's replies, and reports what it showed and what was seen (delivery
receipts, as WhatsApp does). Every API call needs the session cookie: 401 without it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from babel import Locale, UnknownLocaleError
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.messaging.runtime import ChannelRuntime
from bot.services import webchat
from bot.settings import Settings
from bot.web import chat_session
from bot.web.chat_session import ChatSession
from bot.web.deps import ClockDep, SessionFactoryDep, SettingsDep, in_transaction
from bot.web.headers import csp_nonce
from bot.web.limits import WebChatLimits, client_address, get_webchat_limits
from channels.base import PayloadError, load_json
from channels.web import WebChannel

router = APIRouter(tags=["web chat"])
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("id", "en")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_RECEIPT_IDS = 500
MAX_ID = 2**31  # message ids are 32-bit integers on PostgreSQL
LimitsDep = Annotated[WebChatLimits, Depends(get_webchat_limits)]

_templates = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


@lru_cache(maxsize=1)
def page_strings() -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = yaml.safe_load((TEMPLATES / "chat_strings.yml").read_text(encoding="utf-8"))
    return loaded


def page_language(request: Request, asked: str | None, default: str) -> str:
    """``?lang=`` when it names a language the page has, else the browser's preference, else the default."""
    if asked in LANGUAGES:
        return asked
    preferred = []
    for part in (request.headers.get("accept-language") or "").split(",")[:20]:
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if tag and tag != "*":
            preferred.append((weight, tag.replace("_", "-")))
    ordered = [tag for _, tag in sorted(preferred, key=lambda item: -item[0])]
    try:
        chosen = Locale.negotiate(ordered, list(LANGUAGES), sep="-") if ordered else None
    except (UnknownLocaleError, ValueError):
        chosen = None
    return chosen.language if chosen is not None and chosen.language in LANGUAGES else default


def _runtime(request: Request) -> ChannelRuntime:
    return request.app.state.channels


def _web(request: Request) -> WebChannel:
    adapter = _runtime(request).channels["web"]
    assert isinstance(adapter, WebChannel)
    return adapter


def _current(request: Request, settings: Settings, now: datetime) -> ChatSession | None:
    return chat_session.read(
        settings.secret("secret_key"),
        request.cookies.get(chat_session.COOKIE),
        now=now,
        hours=settings.webchat_session_hours,
    )


def chat_session_required(request: Request, settings: SettingsDep, clock: ClockDep) -> ChatSession:
    found = _current(request, settings, clock())
    if found is None:
        raise HTTPException(401, "no web chat session (it expired, or cookies are blocked): reload /chat")
    return found


SessionDep = Annotated[ChatSession, Depends(chat_session_required)]


# -- the page --------------------------------------------------------------------------------------


@router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
async def chat_page(
    request: Request,
    settings: SettingsDep,
    clock: ClockDep,
    lang: Annotated[str | None, Query(max_length=8)] = None,
) -> HTMLResponse:
    language = page_language(request, lang, settings.default_language)
    strings = {
        key: value.replace("{company}", settings.company_name) for key, value in page_strings()[language].items()
    }
    html = _templates.get_template("chat.html").render(
        lang=language,
        company=settings.company_name,
        s=strings,
        # a data block (never executed); "<" escaped so no text can close the element
        strings_json=json.dumps(strings, ensure_ascii=False).replace("<", "\\u003c"),
        csp_nonce=csp_nonce(request),
    )
    response = HTMLResponse(html, headers={"Cache-Control": "no-store"})
    now = clock()
    if _current(request, settings, now) is None:
        session, value = chat_session.issue(settings.secret("secret_key"), now)
        chat_session.set_cookie(response, value, settings, issued_at=session.issued_at, now=now)
    return response


# -- the page's API --------------------------------------------------------------------------------


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = load_json(raw)
    except PayloadError as exc:
        raise HTTPException(400, f"invalid request body: {exc}") from exc
    if not isinstance(body, dict):
        raise HTTPException(400, "request body must be a JSON object")
    return body


def _turn_request(body: dict[str, Any], *, max_chars: int) -> tuple[str, str, str, str | None]:
    """(text, client id, kind, button title) from a page's message, with the reason when refused."""
    text, client_id, title = body.get("text"), body.get("client_id"), body.get("title")
    if not isinstance(text, str) or not text.strip():
        raise HTTPException(422, "'text' must be a non-empty string")
    if len(text) > max_chars:
        raise HTTPException(413, f"'text' is longer than {max_chars} characters")
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise HTTPException(422, "'client_id' must be 8 to 64 letters, digits, '-' or '_' (one per message)")
    if title is not None and (not isinstance(title, str) or len(title) > 200):
        raise HTTPException(422, "'title' must be a string of at most 200 characters")
    return text, client_id, "button" if title else "text", title


@router.post(
    "/chat/api/messages",
    responses={
        401: {"description": "No chat session"},
        413: {"description": "Message too long"},
        422: {"description": "Missing or malformed field"},
        429: {"description": "Too many messages; see Retry-After"},
        503: {"description": "Dialogue down: the message is saved and answered on the live connection"},
    },
)
async def post_message(
    request: Request, session: SessionDep, settings: SettingsDep, limits: LimitsDep, factory: SessionFactoryDep
) -> dict[str, Any]:
    """One turn: ``{"text", "client_id", "title"?}`` (``title``: the quick reply pressed, ``text``
    its payload). Answers the stored message (identity answers masked) and the bot's replies;
    sending the same ``client_id`` again stores nothing new and answers the same."""
    address = client_address(request)
    limits.check_address(address)
    text, client_id, kind, title = _turn_request(_body(await request.body()), max_chars=settings.max_message_chars)
    limits.check_sender(session.id)
    language = request.headers.get("x-page-language")
    delivery = _web(request).message(
        session.id,
        text,
        message_id=f"{session.id}:{client_id}",  # one session can never reach another's messages
        kind=kind,  # type: ignore[arg-type]
        title=title,
        origin=f"ip:{address}",
        language=language if language in LANGUAGES else None,
    )
    turn = await _runtime(request).turn(delivery)

    def answer(s: Any) -> dict[str, Any]:
        webchat.hand_over(s, turn.reply_ids)
        shown = webchat.views(s, [turn.message_id, *turn.reply_ids])
        return {"message": shown[0], "replies": shown[1:], "with_agent": webchat.with_agent(s, session.id)}

    return await in_transaction(factory, answer)


@router.get("/chat/api/history")
async def get_history(session: SessionDep, factory: SessionFactoryDep) -> dict[str, Any]:
    """The conversation so far (newest 200 messages), its language and whether a person has it."""
    return await in_transaction(factory, lambda s: webchat.history(s, session.id))


@router.post("/chat/api/receipts")
async def post_receipts(request: Request, session: SessionDep, factory: SessionFactoryDep) -> dict[str, int]:
    """``{"ids": [...], "status": "delivered" | "read"}``: the page showed these messages, or the
    debtor saw them (the page was visible)."""
    body = _body(await request.body())
    ids, status = body.get("ids"), body.get("status")
    if status not in webchat.RECEIPTS:
        raise HTTPException(422, "'status' must be 'delivered' or 'read'")
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 < i < MAX_ID for i in ids
    ):
        raise HTTPException(422, "'ids' must be a list of message ids")
    if len(ids) > MAX_RECEIPT_IDS:
        raise HTTPException(413, f"at most {MAX_RECEIPT_IDS} ids per receipt")
    moved = await in_transaction(factory, lambda s: webchat.apply_receipts(s, session.id, ids, status))
    return {"updated": moved}


@router.post("/chat/api/end")
async def end_chat(
    request: Request, session: SessionDep, settings: SettingsDep, factory: SessionFactoryDep, clock: ClockDep
) -> JSONResponse:
    """Forget this browser's session (a shared computer): the cookie goes, the conversation stays
    for the lender's agents."""
    await in_transaction(factory, lambda s: webchat.mark_page(s, session.id, now=clock(), open_=False))
    response = JSONResponse({"status": "ended"})
    chat_session.clear_cookie(response, settings)
    return response


@router.get("/chat/api/events")
async def events(request: Request, session: SessionDep, factory: SessionFactoryDep, clock: ClockDep) -> Response:
    """Server-sent events: each message for this session as ``event: message`` while the page is
    open (the page reads the history on (re)connecting, so nothing sent meanwhile is missed)."""
    pages = _web(request).pages
    page = pages.open(session.id)
    renew_every = webchat.PAGE_RENEW.total_seconds()

    async def mark(open_: bool) -> None:
        await in_transaction(factory, lambda s: webchat.mark_page(s, session.id, now=clock(), open_=open_))

    async def stream() -> AsyncIterator[str]:
        try:
            await mark(True)
            yield "retry: 2000\n\n"
            waited = 0.0
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(page.get(), timeout=1.0)
                except asyncio.TimeoutError:
                    waited += 1.0
                    if waited >= renew_every:
                        waited = 0.0
                        await mark(True)
                        yield ": still here\n\n"
                    continue
                yield f"event: message\nid: {event['id']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
        finally:
            pages.close(session.id, page)
            if not pages.is_open(session.id):
                try:
                    await asyncio.shield(mark(False))
                except (asyncio.CancelledError, Exception):  # the page is gone either way; it expires
                    pass

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
