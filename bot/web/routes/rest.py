"""Web chat channel with Rasa's REST contract: ``{"sender", "message"}`` in, replies out."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError

from bot.web.deps import RouterDep, SettingsDep

router = APIRouter(tags=["web chat"])


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
    """Validate by hand so each rejection says exactly what was wrong."""
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise HTTPException(400, "request body must be a JSON object with 'sender' and 'message'")
    for field in ("sender", "message"):
        if field not in body:
            raise HTTPException(422, f"'{field}' is required")
        if not isinstance(body[field], str):
            raise HTTPException(422, f"'{field}' must be a string")
    if not body["sender"].strip():
        raise HTTPException(422, "'sender' must not be empty")
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
        400: {"description": "Invalid JSON"},
        413: {"description": "Message too long"},
        422: {"description": "Missing or empty field"},
        503: {"description": "Dialogue engine down"},
    },
)
async def rest_webhook(request: Request, router_: RouterDep, settings: SettingsDep) -> list[dict[str, Any]]:
    """Send one debtor message to the bot; returns the bot's replies (empty while an agent owns
    the conversation)."""
    message = parse_rest_message(await request.body(), max_chars=settings.max_message_chars)
    replies = await router_.handle(channel="web", sender_id=message.sender.strip(), text=message.message)
    return [{"recipient_id": message.sender, **reply} for reply in replies]
