"""Webhook signatures: Meta signs the raw body with the app secret (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from channels.base import ProofMissingError, VerificationError

HEADER = "X-Hub-Signature-256"


def signature(body: bytes, secret: str) -> str:
    """The header value Meta sends for ``body``: ``sha256=<hex digest>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    lowered = {k.lower(): v for k, v in headers.items()}
    given = lowered.get(HEADER.lower())
    if not given:
        raise ProofMissingError(f"missing {HEADER} header")
    if not given.startswith("sha256="):
        raise VerificationError(f"malformed {HEADER} header")
    if not hmac.compare_digest(given.encode(), signature(body, secret).encode()):
        raise VerificationError(f"{HEADER} does not match the body")
