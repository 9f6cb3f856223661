"""Normalising WhatsApp Cloud API webhook payloads."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

from channels.base import Attachment, InboundMessage, ParsedDelivery, PayloadError, StatusUpdate

logger = logging.getLogger(__name__)
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")


def _when(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    except (TypeError, ValueError):
        return datetime.now(timezone.utc)


def _message(item: dict[str, Any], names: dict[str, str]) -> InboundMessage:
    kind = item.get("type")
    sender = str(item["from"])
    common = {
        "channel": "whatsapp",
        "sender_id": "+" + sender.lstrip("+"),
        "message_id": str(item["id"]),
        "timestamp": _when(item.get("timestamp")),
        "sender_name": names.get(sender),
        "raw": item,
    }
    if kind == "text":
        return InboundMessage(kind="text", text=(item.get("text") or {}).get("body", ""), **common)
    if kind == "interactive":
        interactive = item.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply")
        if reply and reply.get("id"):
            return InboundMessage(kind="button", text=str(reply["id"]), **common)
    if kind == "button":
        button = item.get("button") or {}
        payload = button.get("payload") or button.get("text")
        if payload:
            return InboundMessage(kind="button", text=str(payload), **common)
    if kind in MEDIA_TYPES:
        media = item.get(kind) or {}
        attachment = Attachment(
            kind=kind,  # type: ignore[arg-type]
            media_id=str(media.get("id", "")),
            mime_type=media.get("mime_type"),
            filename=media.get("filename"),
            caption=media.get("caption"),
        )
        return InboundMessage(kind="media", text=media.get("caption"), attachments=(attachment,), **common)
    return InboundMessage(kind="unsupported", **common)


def _status(item: dict[str, Any]) -> StatusUpdate:
    errors = item.get("errors") or [{}]
    failed = item.get("status") == "failed"
    return StatusUpdate(
        channel="whatsapp",
        platform_message_id=str(item["id"]),
        recipient_id="+" + str(item.get("recipient_id", "")).lstrip("+"),
        status=item["status"],
        timestamp=_when(item.get("timestamp")),
        error_code=str(errors[0].get("code")) if failed and errors[0].get("code") is not None else None,
        error_title=errors[0].get("title") if failed else None,
    )


def parse_payload(body: bytes) -> ParsedDelivery:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PayloadError(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        raise PayloadError("expected an object of type whatsapp_business_account")
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    try:
        for entry in data.get("entry") or []:
            for change in entry.get("changes") or []:
                value = change.get("value") or {}
                names = {str(c.get("wa_id")): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []}
                messages.extend(_message(item, names) for item in value.get("messages") or [])
                for item in value.get("statuses") or []:
                    if item.get("status") in ("sent", "delivered", "read", "failed"):
                        statuses.append(_status(item))
                for error in value.get("errors") or []:
                    logger.warning("WhatsApp reported an error: %s", error)
    except (AttributeError, KeyError, TypeError) as exc:
        raise PayloadError(f"unexpected payload shape: {exc!r}") from exc
    return ParsedDelivery(messages=tuple(messages), statuses=tuple(statuses))
