"""The parts of a Telegram ``Update`` this adapter reads, checked before python-telegram-bot sees
them: ``Update.de_json`` trusts the types it is given (a ``text`` that is a number, a ``message``
that is a string and a ``date`` of 1e20 all get through or fail with arbitrary exceptions), and
the values end up in the database and the dialogue.
"""

from __future__ import annotations

from typing import Any

from channels.base import PayloadError

MAX_ID = 2**53  # Telegram ids have at most 52 significant bits
MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime can hold
MAX_STRING_ID = 255


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} is not an object")
    return value


def _int(value: Any, what: str, *, low: int = -MAX_ID, high: int = MAX_ID) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{what} is missing or not an integer")
    if not low <= value <= high:
        raise PayloadError(f"{what} is out of range")
    return value


def _optional_text(parent: dict[str, Any], key: str, what: str) -> None:
    if parent.get(key) is not None and not isinstance(parent[key], str):
        raise PayloadError(f"{what}.{key} is not a string")


def _string_id(value: Any, what: str) -> None:
    if not isinstance(value, str) or not value or len(value) > MAX_STRING_ID:
        raise PayloadError(f"{what} is missing or not a string id")


def _user(value: Any, what: str) -> None:
    user = _object(value, what)
    _int(user.get("id"), f"{what}.id")
    if not isinstance(user.get("first_name"), str):
        raise PayloadError(f"{what}.first_name is missing or not a string")
    _optional_text(user, "last_name", what)


def _chat(value: Any, what: str) -> None:
    _int(_object(value, what).get("id"), f"{what}.id")


def _message(value: Any, what: str) -> None:
    message = _object(value, what)
    _chat(message.get("chat"), f"{what}.chat")
    _int(message.get("date"), f"{what}.date", low=0, high=MAX_SECONDS)
    if message.get("from") is not None:
        _user(message["from"], f"{what}.from")
    for key in ("text", "caption"):
        _optional_text(message, key, what)
    if message.get("contact") is not None:
        contact = _object(message["contact"], f"{what}.contact")
        if not isinstance(contact.get("phone_number"), str):
            raise PayloadError(f"{what}.contact.phone_number is missing or not a string")
        if contact.get("user_id") is not None:
            _int(contact["user_id"], f"{what}.contact.user_id")
    if message.get("photo") is not None:
        photos = message["photo"]
        if not isinstance(photos, list):
            raise PayloadError(f"{what}.photo is not a list")
        for photo in photos:
            _string_id(_object(photo, f"{what}.photo[]").get("file_id"), f"{what}.photo[].file_id")
    if message.get("document") is not None:
        document = _object(message["document"], f"{what}.document")
        _string_id(document.get("file_id"), f"{what}.document.file_id")
        for key in ("mime_type", "file_name"):
            _optional_text(document, key, f"{what}.document")


def check_update(data: Any) -> dict[str, Any]:
    """The update as a dict once its ``update_id``, ``message`` and ``callback_query`` are of the
    types Telegram documents; ``PayloadError`` naming the first field that is not."""
    if not isinstance(data, dict):
        raise PayloadError("expected a Telegram Update object with an integer update_id")
    _int(data.get("update_id"), "update_id", low=0)
    if data.get("message") is not None:
        _message(data["message"], "message")
    if data.get("callback_query") is not None:
        query = _object(data["callback_query"], "callback_query")
        _string_id(query.get("id"), "callback_query.id")
        _user(query.get("from"), "callback_query.from")
        _optional_text(query, "data", "callback_query")
        if query.get("message") is not None:
            _chat(_object(query["message"], "callback_query.message").get("chat"), "callback_query.message.chat")
    return data
