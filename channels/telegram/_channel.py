"""Telegram adapter composing python-telegram-bot's ``Bot`` (webhook and long polling)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import SecretStr
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from channels.base import (
    Attachment,
    InboundMessage,
    OutboundMessage,
    ParsedDelivery,
    PayloadError,
    PermanentSendError,
    ProofMissingError,
    RateLimitedError,
    RecipientOptedOutError,
    SendResult,
    TransientSendError,
    VerificationError,
    load_json,
)
from channels.telegram._update import check_update

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True)
class TelegramConfig:
    bot_token: SecretStr
    webhook_secret: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> TelegramConfig | None:
        if settings.telegram_bot_token is None:
            return None
        return cls(settings.telegram_bot_token, settings.telegram_webhook_secret, settings.telegram_api_base_url)


def _phone(raw: str) -> str:
    return "+" + "".join(ch for ch in raw if ch.isdigit())


class TelegramChannel:
    name = "telegram"

    def __init__(self, config: TelegramConfig, *, bot: Bot | None = None) -> None:
        self.config = config
        request = HTTPXRequest(connect_timeout=config.timeout, read_timeout=config.timeout)
        polling_request = HTTPXRequest(connect_timeout=config.timeout, read_timeout=config.timeout + 30)
        self._bot = bot or Bot(
            config.bot_token.get_secret_value(),
            base_url=config.api_base_url,
            request=request,
            get_updates_request=polling_request,
        )
        self._ready = False
        self._ready_lock = asyncio.Lock()

    async def _ensure_ready(self) -> Bot:
        if not self._ready:
            async with self._ready_lock:
                if not self._ready:
                    await self._bot.initialize()
                    self._ready = True
        return self._bot

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        if self.config.webhook_secret is None:
            raise VerificationError("no TELEGRAM_WEBHOOK_SECRET configured: webhook deliveries cannot be trusted")
        given = {k.lower(): v for k, v in headers.items()}.get(SECRET_HEADER.lower())
        if not given:
            raise ProofMissingError(f"{SECRET_HEADER} header is missing")
        if not hmac.compare_digest(given.encode(), self.config.webhook_secret.get_secret_value().encode()):
            raise VerificationError(f"{SECRET_HEADER} does not match")

    def parse(self, body: bytes) -> ParsedDelivery:
        data = check_update(load_json(body))
        try:
            update = Update.de_json(data, self._bot)
            message = self._normalise(update, data)
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
            # What check_update does not look at (update kinds we do not subscribe to, fields we do
            # not read) is de_json's to parse, and it fails with whatever the bad value causes.
            raise PayloadError(f"not a Telegram Update: {exc!r}"[:500]) from exc
        return ParsedDelivery(messages=(message,) if message else ())

    def _normalise(self, update: Update, raw: dict[str, Any]) -> InboundMessage | None:
        message_id = str(update.update_id)
        if update.callback_query is not None:
            query = update.callback_query
            chat_id = query.message.chat.id if query.message is not None else query.from_user.id
            return InboundMessage(
                channel="telegram",
                sender_id=str(chat_id),
                message_id=message_id,
                kind="button",
                timestamp=datetime.now(timezone.utc),
                text=query.data or "",
                callback_id=query.id,
                sender_name=query.from_user.full_name,
                raw=raw,
            )
        message = update.message
        if message is None:
            chat = update.effective_chat
            if chat is None:
                return None
            if isinstance(chat.id, bool) or not isinstance(chat.id, int):
                raise PayloadError("the update's chat id is not an integer")
            return InboundMessage(
                channel="telegram",
                sender_id=str(chat.id),
                message_id=message_id,
                kind="unsupported",
                timestamp=datetime.now(timezone.utc),
                raw=raw,
            )
        common: dict[str, Any] = {
            "channel": "telegram",
            "sender_id": str(message.chat.id),
            "message_id": message_id,
            "timestamp": message.date,
            "sender_name": message.from_user.full_name if message.from_user else None,
            "raw": raw,
        }
        if message.text is not None:
            text = message.text
            if text == "/start" or text.startswith("/start "):
                token = text[len("/start") :].strip() or None
                return InboundMessage(kind="start", text=text, start_token=token, **common)
            return InboundMessage(kind="text", text=text, **common)
        if message.contact is not None:
            own = message.from_user is not None and message.contact.user_id == message.from_user.id
            if own:
                return InboundMessage(kind="contact", contact_phone=_phone(message.contact.phone_number), **common)
            return InboundMessage(kind="unsupported", **common)
        if message.photo:
            photo = message.photo[-1]
            attachment = Attachment(
                kind="image", media_id=photo.file_id, mime_type="image/jpeg", caption=message.caption
            )
            return InboundMessage(kind="media", text=message.caption, attachments=(attachment,), **common)
        if message.document is not None:
            document = message.document
            attachment = Attachment(
                kind="document",
                media_id=document.file_id,
                mime_type=document.mime_type,
                filename=document.file_name,
                caption=message.caption,
            )
            return InboundMessage(kind="media", text=message.caption, attachments=(attachment,), **common)
        return InboundMessage(kind="unsupported", **common)

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.template is not None:
            raise PermanentSendError("templates are WhatsApp-only", code="template_unsupported")
        markup = None
        if message.buttons:
            for button in message.buttons:
                if len(button.payload.encode()) > MAX_CALLBACK_BYTES:
                    raise PermanentSendError(
                        f"button payload longer than {MAX_CALLBACK_BYTES} bytes: {button.payload[:30]}...",
                        code="callback_data_too_long",
                    )
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(b.title, callback_data=b.payload)] for b in message.buttons]
            )
        try:
            bot = await self._ensure_ready()
            sent = await bot.send_message(chat_id=message.recipient_id, text=message.text or "", reply_markup=markup)
        except TelegramError as exc:
            raise _map_error(exc) from exc
        return SendResult(str(sent.message_id))

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        try:
            bot = await self._ensure_ready()
            await bot.answer_callback_query(callback_id, text=text)
        except TelegramError as exc:
            raise _map_error(exc) from exc

    async def set_webhook(self, url: str) -> None:
        secret = self.config.webhook_secret.get_secret_value() if self.config.webhook_secret else None
        try:
            bot = await self._ensure_ready()
            await bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        except TelegramError as exc:
            raise _map_error(exc) from exc

    async def delete_webhook(self) -> None:
        try:
            bot = await self._ensure_ready()
            await bot.delete_webhook()
        except TelegramError as exc:
            raise _map_error(exc) from exc

    async def poll(self, handle: Callable[[bytes], Awaitable[None]], *, stop: asyncio.Event, timeout: int = 20) -> None:
        """Long polling for development; the offset only advances after ``handle`` returned."""
        offset: int | None = None
        backoff = 1.0
        while not stop.is_set():
            try:
                bot = await self._ensure_ready()
                updates = await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES)
                backoff = 1.0
            except (NetworkError, TimedOut) as exc:
                logger.warning("Telegram polling failed (%s); retrying in %.0fs", exc, backoff)
                try:
                    await asyncio.wait_for(stop.wait(), backoff)
                except asyncio.TimeoutError:
                    pass
                backoff = min(backoff * 2, 60)
                continue
            for update in updates:
                await handle(json.dumps(update.to_dict()).encode())
                offset = update.update_id + 1

    async def aclose(self) -> None:
        if self._ready:
            await self._bot.shutdown()


def _map_error(exc: TelegramError) -> Exception:
    title = str(exc)
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():  # PTB 22 warns that this becomes a timedelta; both are handled
            warnings.simplefilter("ignore")
            seconds = exc.retry_after
        retry = seconds.total_seconds() if hasattr(seconds, "total_seconds") else float(seconds)
        return RateLimitedError(title, retry_after=retry, code="429", title=title)
    if isinstance(exc, Forbidden):
        return RecipientOptedOutError(title, code="403", title=title)
    if isinstance(exc, BadRequest):
        return PermanentSendError(title, code="400", title=title)
    if isinstance(exc, (TimedOut, NetworkError)):
        return TransientSendError(title, code=type(exc).__name__, title=title)
    return PermanentSendError(title, code=type(exc).__name__, title=title)
