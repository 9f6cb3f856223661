"""Rasa's REST contract for API clients: ``{"sender", "message"}`` in, replies out. The message goes
through the same pipeline as every channel's (it is a web chat message whose client chose its
sender id); the web chat page itself uses /chat/api with a session cookie instead."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError

from bot.messaging.runtime import ChannelRuntime
from bot.services import webchat
from bot.web.chat_session import PREFIX as PAGE_PREFIX
from bot.web.deps import SessionFactoryDep, SettingsDep, in_transaction
from bot.web.limits import WebChatLimits, client_address, get_webchat_limits
from channels.base import PayloadError, load_json
from channels.web import WebChannel

router = APIRouter(tags=["web chat"])
LimitsDep = Annotated[WebChatLimits, Depends(get_webchat_limits)]


class RestMessage(BaseModel):
    sender: str = Field(min_length=1, max_length=128, description="Stable id of the chat client")
    message: str = Field(description="What the debtor typed, or a button payload")
    metadata: dict[str, Any] | None = None


class RestButton(BaseModel):
    title: str
    payload: str


class RestReply(BaseModel):
    recipient_id: str
    text: str | None = None
    buttons: list[RestButton] | None = None


def parse_rest_message(raw: bytes, *, max_chars: int) -> RestMessage:
    """Validate by hand so each rejection says exactly what was wrong. The JSON itself is checked
    first (nesting, text that cannot be stored, NaN), so nothing hostile reaches the database."""
    try:
        body = load_json(raw)
    except PayloadError as exc:
        raise HTTPException(400, f"invalid request body: {exc}") from exc
    if not isinstance(body, dict):
        raise HTTPException(400, "request body must be a JSON object with 'sender' and 'message'")
    for field in ("sender", "message"):
        if field not in body:
            raise HTTPException(422, f"'{field}' is required")
        if not isinstance(body[field], str):
            raise HTTPException(422, f"'{field}' must be a string")
    if not body["sender"].strip():
        raise HTTPException(422, "'sender' must not be empty")
    if body["sender"].strip().startswith(PAGE_PREFIX):
        raise HTTPException(422, f"'sender' ids starting with {PAGE_PREFIX!r} belong to the web chat page's sessions")
    if not body["message"].strip():
        raise HTTPException(422, "'message' must not be empty or only whitespace")
    if len(body["message"]) > max_chars:
        raise HTTPException(413, f"'message' is longer than {max_chars} characters")
    try:
        return RestMessage.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise HTTPException(422, f"'{where}': {first['msg']}") from exc


@router.post(
    "/webhooks/rest/webhook",
    response_model=list[RestReply],
    response_model_exclude_none=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RestMessage.model_json_schema()}},
        }
    },
    responses={
        400: {"description": "Invalid JSON (also: nested too deeply, text that is not valid Unicode)"},
        413: {"description": "Message or request body too long"},
        422: {"description": "Missing or empty field"},
        429: {"description": "Too many messages from this sender or address; see Retry-After"},
        503: {"description": "Dialogue engine down"},
    },
)
async def rest_webhook(
    request: Request, settings: SettingsDep, limits: LimitsDep, factory: SessionFactoryDep
) -> list[dict[str, Any]]:
    """Send one debtor message to the bot; returns the bot's replies (empty while an agent owns
    the conversation: the agent's replies are kept in the conversation)."""
    address = client_address(request)
    limits.check_address(address)  # every request counts, valid or not
    message = parse_rest_message(await request.body(), max_chars=settings.max_message_chars)
    sender = message.sender.strip()
    limits.check_sender(sender)
    runtime: ChannelRuntime = request.app.state.channels
    web = runtime.channels["web"]
    assert isinstance(web, WebChannel)
    turn = await runtime.turn(web.message(sender, message.message, origin=f"ip:{address}"))
    return await in_transaction(factory, lambda s: webchat.rest_replies(s, message.sender, turn.reply_ids))
