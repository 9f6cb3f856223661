"""What every channel adapter speaks: normalised inbound and outbound messages, delivery
statuses, the ``Channel`` protocol and one error tree. Adapters import only this module.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

InboundKind = Literal["text", "button", "media", "contact", "start", "unsupported"]
DeliveryState = Literal["sent", "delivered", "read", "failed"]


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Attachment:
    """A file the debtor sent (e.g. a payment proof); only the platform's reference is kept."""

    kind: Literal["image", "document", "audio", "video", "sticker", "other"]
    media_id: str
    mime_type: str | None = None
    filename: str | None = None
    caption: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """One debtor message, whatever the platform.

    ``message_id`` is unique per channel and is the de-duplication key (WhatsApp message id,
    Telegram ``update_id``). ``text`` is what goes to the dialogue: the typed text, or a pressed
    button's payload.
    """

    channel: str
    sender_id: str
    message_id: str
    kind: InboundKind
    timestamp: datetime
    text: str | None = None
    sender_name: str | None = None
    attachments: tuple[Attachment, ...] = ()
    contact_phone: str | None = None
    start_token: str | None = None
    callback_id: str | None = None
    # Where the message came from, when the channel knows more than the sender id (web chat: the
    # client's address); wrong identity answers are counted per origin as well.
    origin: str | None = None
    # The language the client is set to (the web chat page's), used when the text itself does not tell.
    language: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery receipt for a message we sent."""

    channel: str
    platform_message_id: str
    recipient_id: str
    status: DeliveryState
    timestamp: datetime
    error_code: str | None = None
    error_title: str | None = None


@dataclass(frozen=True)
class ParsedDelivery:
    """Everything one webhook delivery carried. ``rejected`` says why parts of it were left out
    (one bad message among good ones): the platform sent them and will not send them differently,
    so they are recorded for operators instead of failing the whole delivery."""

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True)
class TemplateMessage:
    """A pre-approved WhatsApp template (needed outside the 24-hour customer-service window)."""

    name: str
    language: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutboundMessage:
    channel: str
    recipient_id: str
    text: str | None = None
    buttons: tuple[Button, ...] = ()
    template: TemplateMessage | None = None
    # Our own id for the message and who wrote it ("bot", "agent", "system"): a channel without
    # message ids of its own (web chat) uses the reference as the platform id.
    reference: str | None = None
    author: str = "bot"
    created_at: datetime | None = None


@dataclass(frozen=True)
class SendResult:
    platform_message_id: str


class ChannelError(Exception):
    """Base of all channel errors."""


class VerificationError(ChannelError):
    """The request did not prove it came from the platform (signature, secret token)."""


class ProofMissingError(VerificationError):
    """The request carries no proof at all (no signature or secret-token header)."""


class PayloadError(ChannelError):
    """The request body is not a payload this channel understands."""


MAX_JSON_DEPTH = 32


def _reject_constant(name: str) -> Any:
    raise PayloadError(f"not valid JSON: {name} is not a JSON number")


def _where(path: tuple[str | int, ...]) -> str:
    """A JSON path for messages; keys are escaped and cut short, as they come from the sender."""
    text = "$" + "".join(
        f"[{part}]" if isinstance(part, int) else "." + part[:40].encode("utf-8", "backslashreplace").decode()
        for part in path
    )
    return text[:200]


def _unstorable(text: str) -> str | None:
    if text.isascii():
        return "a NUL character" if "\x00" in text else None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (not valid Unicode)"
    return "a NUL character" if "\x00" in text else None


def load_json(body: bytes, *, max_depth: int = MAX_JSON_DEPTH, **options: Any) -> Any:
    """Decode an untrusted JSON body, refusing what would fail later, far from here: nesting deep
    enough to exhaust the stack, text that cannot be encoded as UTF-8 or stored (lone surrogates,
    NUL), and numbers JSON does not have (NaN, Infinity, overflowing floats). ``options`` go to
    :func:`json.loads` (e.g. ``parse_float=Decimal``)."""
    options.setdefault("parse_constant", _reject_constant)
    try:
        data = json.loads(body, **options)
    except RecursionError as exc:
        raise PayloadError(f"JSON nested deeper than {max_depth} levels") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, oversized integers
        raise PayloadError(f"not valid JSON: {exc}") from exc
    pending: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while pending:  # iterative, so the check itself cannot run out of stack
        value, path = pending.pop()
        if isinstance(value, (dict, list)) and len(path) >= max_depth:
            raise PayloadError(f"JSON nested deeper than {max_depth} levels")
        if isinstance(value, str):
            problem = _unstorable(value)
            if problem:
                raise PayloadError(f"text at {_where(path)} contains {problem}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise PayloadError(f"number at {_where(path)} is out of range")
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = _unstorable(key)
                if problem:
                    raise PayloadError(f"a key at {_where(path)} contains {problem}")
                pending.append((item, (*path, key)))
        elif isinstance(value, list):
            pending.extend((item, (*path, index)) for index, item in enumerate(value))
    return data


class SendError(ChannelError):
    """Sending failed. ``code``/``title`` carry the platform's own error."""

    def __init__(self, message: str, *, code: str | None = None, title: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.title = title


class TransientSendError(SendError):
    """Worth retrying: network trouble, platform 5xx."""


class RateLimitedError(TransientSendError):
    """The platform asked us to slow down; ``retry_after`` seconds if it said."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, code: str | None = None, title: str | None = None
    ) -> None:
        super().__init__(message, code=code, title=title)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Retrying will not help (bad recipient, blocked, invalid request)."""


class OutsideWindowError(PermanentSendError):
    """WhatsApp 131047: free-form text is not allowed outside the 24-hour window."""


class RecipientOptedOutError(PermanentSendError):
    """The recipient stopped messages from us (WhatsApp marketing opt-out, Telegram bot blocked)."""


class RecipientAwayError(SendError):
    """Nobody is there to receive the message now (no web chat page open). Not a failure: the
    message stays queued and is shown when the recipient comes back."""


@runtime_checkable
class Channel(Protocol):
    """An adapter for one messaging platform."""

    name: str

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise ``VerificationError`` unless the raw request came from the platform."""

    def parse(self, body: bytes) -> ParsedDelivery:
        """Normalise a verified raw body; raise ``PayloadError`` if malformed."""

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one message; raise a ``SendError`` subclass on failure."""

    async def aclose(self) -> None:
        """Release network resources."""


__all__ = [
    "Attachment",
    "Button",
    "Channel",
    "ChannelError",
    "DeliveryState",
    "InboundKind",
    "InboundMessage",
    "MAX_JSON_DEPTH",
    "OutboundMessage",
    "OutsideWindowError",
    "ParsedDelivery",
    "PayloadError",
    "PermanentSendError",
    "ProofMissingError",
    "RateLimitedError",
    "RecipientAwayError",
    "RecipientOptedOutError",
    "SendError",
    "SendResult",
    "StatusUpdate",
    "TemplateMessage",
    "TransientSendError",
    "VerificationError",
    "load_json",
]
