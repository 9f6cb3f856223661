"""Normalising WhatsApp Cloud API webhook payloads.

The body is checked before anything is built from it: a delivery whose envelope is not what Meta
documents is refused as a whole (``PayloadError``); inside a well-formed delivery, each message and
status is checked on its own, so one that can never be processed (a text that is not a string, a
timestamp out of range) is left out with its reason in ``ParsedDelivery.rejected`` while the others
are kept. Nothing here raises anything but ``PayloadError``.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any

from channels.base import Attachment, InboundMessage, ParsedDelivery, PayloadError, StatusUpdate, load_json

logger = logging.getLogger(__name__)
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
STATUSES = ("sent", "delivered", "read", "failed")
WA_ID = re.compile(r"^\+?[0-9]{1,20}$")
MAX_ID_CHARS = 255
MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime can hold


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    """A list, or empty when the field is absent (Meta leaves out empty lists)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{what} is not a list")
    return value


def _text(value: Any, what: str, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{what} is not a string")
    return value


def _identifier(value: Any, what: str) -> str:
    """Ids Meta sends as strings; numbers are accepted (some samples have them), nothing else."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PayloadError(f"{what} is missing or not a string")
    text = str(value)
    if not text or len(text) > MAX_ID_CHARS:
        raise PayloadError(f"{what} is empty or longer than {MAX_ID_CHARS} characters")
    return text


def _wa_id(value: Any, what: str) -> str:
    text = _identifier(value, what)
    if not WA_ID.match(text):
        raise PayloadError(f"{what} is not a WhatsApp number")
    return "+" + text.lstrip("+")


def _when(value: Any) -> datetime:
    """Unix seconds as Meta sends them (a string of digits); absent means now. Anything else can
    never be right, and would move the 24-hour window, so the item is refused."""
    if value is None:
        return datetime.now(timezone.utc)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        seconds = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    else:
        raise PayloadError("timestamp is not a number of seconds")
    if not 0 <= seconds <= MAX_SECONDS:
        raise PayloadError("timestamp is out of range")
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _message(item: Any, names: dict[str, str | None]) -> InboundMessage:
    item = _object(item, "message")
    kind = item.get("type")
    sender = _wa_id(item.get("from"), "'from'")
    common = {
        "channel": "whatsapp",
        "sender_id": sender,
        "message_id": _identifier(item.get("id"), "'id'"),
        "timestamp": _when(item.get("timestamp")),
        "sender_name": names.get(sender),
        "raw": item,
    }
    if kind == "text":
        text = _object(item.get("text"), "'text'")
        return InboundMessage(kind="text", text=_text(text.get("body"), "'text.body'", optional=False), **common)
    if kind == "interactive":
        interactive = _object(item.get("interactive") or {}, "'interactive'")
        reply = interactive.get("button_reply") or interactive.get("list_reply")
        if reply:
            reply_id = _object(reply, "the interactive reply").get("id")
            if reply_id:
                return InboundMessage(kind="button", text=_identifier(reply_id, "the reply id"), **common)
    if kind == "button":
        button = _object(item.get("button") or {}, "'button'")
        payload = button.get("payload") or button.get("text")
        if payload:
            return InboundMessage(kind="button", text=_text(payload, "the button payload"), **common)
    if kind in MEDIA_TYPES:
        media = _object(item.get(kind) or {}, f"'{kind}'")
        caption = _text(media.get("caption"), f"'{kind}.caption'")
        attachment = Attachment(
            kind=kind,
            media_id=_identifier(media.get("id"), f"'{kind}.id'"),
            mime_type=_text(media.get("mime_type"), f"'{kind}.mime_type'"),
            filename=_text(media.get("filename"), f"'{kind}.filename'"),
            caption=caption,
        )
        return InboundMessage(kind="media", text=caption, attachments=(attachment,), **common)
    return InboundMessage(kind="unsupported", **common)


def _status(item: dict[str, Any]) -> StatusUpdate:
    errors = _list(item.get("errors"), "'errors'") or [{}]
    error = _object(errors[0], "the status error")
    failed = item.get("status") == "failed"
    code, recipient = error.get("code"), item.get("recipient_id")
    if code is not None and (isinstance(code, bool) or not isinstance(code, (str, int))):
        raise PayloadError("the status error code is not a number")
    return StatusUpdate(
        channel="whatsapp",
        platform_message_id=_identifier(item.get("id"), "'id'"),
        recipient_id="+" + (_identifier(recipient, "'recipient_id'").lstrip("+") if recipient is not None else ""),
        status=item["status"],
        timestamp=_when(item.get("timestamp")),
        error_code=str(code)[:MAX_ID_CHARS] if failed and code is not None else None,
        error_title=_text(error.get("title"), "the status error title") if failed else None,
    )


def _names(value: dict[str, Any]) -> dict[str, str | None]:
    """Profile names by number; a contact that makes no sense only costs its name."""
    names: dict[str, str | None] = {}
    for contact in _list(value.get("contacts"), "'contacts'"):
        if isinstance(contact, dict) and isinstance(contact.get("wa_id"), str) and WA_ID.match(contact["wa_id"]):
            name = (contact.get("profile") or {}).get("name") if isinstance(contact.get("profile"), dict) else None
            names["+" + contact["wa_id"].lstrip("+")] = name if isinstance(name, str) else None
    return names


def _label(item: Any, what: str, position: int) -> str:
    """How a rejected item is named in the reason: its id when it has a sensible one."""
    item_id = item.get("id") if isinstance(item, dict) else None
    if isinstance(item_id, str) and item_id.isprintable() and len(item_id) <= 80:
        return f"{what} {item_id!r}"
    return f"{what} #{position + 1}"


def parse_payload(body: bytes) -> ParsedDelivery:
    data = load_json(body)
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        raise PayloadError("expected an object of type whatsapp_business_account")
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    rejected: list[str] = []
    for entry in _list(data.get("entry"), "'entry'"):
        for change in _list(_object(entry, "an entry").get("changes"), "'changes'"):
            value = _object(_object(change, "a change").get("value") or {}, "a change's value")
            names = _names(value)
            for position, item in enumerate(_list(value.get("messages"), "'messages'")):
                try:
                    messages.append(_message(item, names))
                except PayloadError as exc:
                    rejected.append(f"{_label(item, 'message', position)}: {exc}")
            for position, item in enumerate(_list(value.get("statuses"), "'statuses'")):
                if not isinstance(item, dict) or item.get("status") not in STATUSES:
                    continue  # statuses we do not track ("deleted", "warning", ...)
                try:
                    statuses.append(_status(item))
                except PayloadError as exc:
                    rejected.append(f"{_label(item, 'status', position)}: {exc}")
            for error in _list(value.get("errors"), "'errors'"):
                logger.warning("WhatsApp reported an error: %s", repr(error)[:500])
    return ParsedDelivery(messages=tuple(messages), statuses=tuple(statuses), rejected=tuple(rejected))
