"""Signed, expiring tokens that a reminder can carry in a Telegram deep link (/start <token>).

Telegram allows 64 characters of ``[A-Za-z0-9_-]`` after /start, so the token is
``<debtor id>_<expiry unix time>_<24 hex chars of HMAC-SHA256>``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

_TOKEN = re.compile(r"^(\d{1,12})_(\d{9,11})_([0-9a-f]{24})$")


def _signature(secret: str, debtor_id: int, expires: int) -> str:
    message = f"telegram-link:{debtor_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:24]


def make_link_token(secret: str, debtor_id: int, *, now: datetime, ttl: timedelta) -> str:
    expires = int((now + ttl).timestamp())
    return f"{debtor_id}_{expires}_{_signature(secret, debtor_id, expires)}"


def read_link_token(secret: str, token: str, *, now: datetime) -> int | None:
    """The debtor id, or None for a malformed, forged or expired token."""
    match = _TOKEN.match(token or "")
    if match is None:
        return None
    debtor_id, expires, signature = int(match.group(1)), int(match.group(2)), match.group(3)
    if not hmac.compare_digest(signature, _signature(secret, debtor_id, expires)):
        return None
    if now.timestamp() > expires:
        return None
    return debtor_id
