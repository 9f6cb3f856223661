"""What every channel adapter speaks: normalised inbound and outbound messages, delivery
statuses, the ``Channel`` protocol and one error tree. Adapters import only this module.
"""

from __future__ import annotations

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
    """Everything one webhook delivery carried."""

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()


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


@dataclass(frozen=True)
class SendResult:
    platform_message_id: str


class ChannelError(Exception):
    """Base of all channel errors."""


class VerificationError(ChannelError):
    """The request did not prove it came from the platform (signature, secret token)."""


class PayloadError(ChannelError):
    """The request body is not a payload this channel understands."""


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
    "OutboundMessage",
    "OutsideWindowError",
    "ParsedDelivery",
    "PayloadError",
    "PermanentSendError",
    "RateLimitedError",
    "RecipientOptedOutError",
    "SendError",
    "SendResult",
    "StatusUpdate",
    "TemplateMessage",
    "TransientSendError",
    "VerificationError",
]
