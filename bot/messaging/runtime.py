"""Wires channel adapters, the inbound processor and the outbox into background workers.

Built by the app's lifespan; on start it resumes whatever an earlier process left unfinished
(stored but unprocessed deliveries, queued replies).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from bot.dialogue.rasa_client import RasaClient
from bot.dialogue.responses import Responses
from bot.errors import DialogueUnavailableError
from bot.messaging.codes import CodeSender
from bot.messaging.inbox import Rejection, StoredDelivery, pending_outbound, store_delivery, unprocessed_inbound
from bot.messaging.outbox import Outbox, OutboxPolicy
from bot.messaging.processor import InboundProcessor
from bot.messaging.ratelimit import KeyedBuckets, TokenBucket
from bot.services.identity_checks import IdentityScreen
from bot.settings import Settings
from channels.base import Channel, ParsedDelivery, PayloadError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    message_id: int  # the stored inbound message
    reply_ids: list[int]  # the replies queued for it, in order


class ChannelRuntime:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        rasa: RasaClient,
        responses: Responses,
        channels: Mapping[str, Channel],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.settings = settings
        self.channels = dict(channels)
        self._sessions = session_factory
        wa_buckets = KeyedBuckets(settings.whatsapp_rate_per_second)
        tg_chat = KeyedBuckets(settings.telegram_chat_per_second, burst=1)
        tg_global = TokenBucket(settings.telegram_global_per_second)
        phone_number_id = settings.whatsapp_phone_number_id or "default"

        async def whatsapp_limit(recipient: str) -> None:
            await wa_buckets.acquire(phone_number_id)  # the platform limit is per business number

        async def telegram_limit(recipient: str) -> None:
            await tg_chat.acquire(recipient)
            await tg_global.acquire()

        self.outbox = Outbox(
            session_factory,
            self.channels,
            policy=OutboxPolicy(
                max_attempts=settings.send_max_attempts,
                backoff_seconds=settings.send_backoff_seconds,
                template_name=settings.whatsapp_template_name,
                template_languages={
                    "id": settings.whatsapp_template_language_id,
                    "en": settings.whatsapp_template_language_en,
                },
                company_name=settings.company_name,
            ),
            limiters={"whatsapp": whatsapp_limit, "telegram": telegram_limit},
            clock=clock,
        )
        self.codes = CodeSender(
            session_factory,
            self.channels,
            responses,
            company_name=settings.company_name,
            template_name=settings.whatsapp_code_template_name,
            template_languages={
                "id": settings.whatsapp_template_language_id,
                "en": settings.whatsapp_template_language_en,
            },
            clock=clock,
        )
        self.identity_screen = IdentityScreen.from_settings(settings, self.channels, clock)
        self.processor = InboundProcessor(
            session_factory,
            rasa,
            self.outbox,
            responses,
            company_name=settings.company_name,
            link_secret=settings.secret("secret_key"),
            answer_callback=self._answer_callback,
            screen=self.identity_screen,
            codes=self.codes,
            clock=clock,
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def _answer_callback(self, channel: str, callback_id: str) -> None:
        adapter = self.channels.get(channel)
        answer = getattr(adapter, "answer_callback", None)
        if answer is not None:
            await answer(callback_id)

    async def start(self) -> None:
        for _ in range(self.settings.channel_workers):
            self._tasks.append(asyncio.create_task(self.processor.worker()))
            self._tasks.append(asyncio.create_task(self.outbox.worker()))
        self.processor.submit(await to_thread.run_sync(unprocessed_inbound, self._sessions))
        for conversation_id, batch in (await to_thread.run_sync(pending_outbound, self._sessions)).items():
            self.outbox.submit(batch, conversation_id=conversation_id)

    def start_polling(self, channel: str) -> None:
        adapter = self.channels[channel]
        stop = asyncio.Event()
        self._stop_polling = stop

        async def handle(body: bytes) -> None:
            await self.receive(adapter, body)

        self._tasks.append(asyncio.create_task(adapter.poll(handle, stop=stop)))  # type: ignore[attr-defined]

    async def receive(self, adapter: Channel, body: bytes) -> StoredDelivery:
        """Parse and persist a verified body. What can never be processed (the whole body, or some
        messages in it) is stored as a rejection rather than raised: the platform sent it and would
        only send it again, so the caller acknowledges it like any other delivery."""
        try:
            delivery = adapter.parse(body)
        except PayloadError as exc:
            delivery = ParsedDelivery(rejected=(str(exc),))
        rejection = None
        if delivery.rejected:
            rejection = Rejection(adapter.name, "; ".join(delivery.rejected), body)
            logger.warning("%s delivery rejected: %r", adapter.name, rejection.reason[:500])
        return await self.accept(adapter, delivery, rejection=rejection)

    async def accept(
        self, adapter: Channel, delivery: ParsedDelivery, *, rejection: Rejection | None = None
    ) -> StoredDelivery:
        """Persist, then schedule processing. Returns once the delivery is safely stored."""
        stored = await to_thread.run_sync(
            lambda: store_delivery(
                self._sessions, delivery, default_language=self.settings.default_language, rejection=rejection
            )
        )
        self.processor.submit(stored.new_message_ids)
        for message_id in stored.resend_ids:
            self.outbox.submit([message_id])
        return stored

    async def turn(self, delivery: ParsedDelivery) -> Turn:
        """A web chat message whose sender waits for the answer, in the spirit of Rasa's
        ``CollectingOutputChannel``: persisted first, then processed at once by the same pipeline as
        every channel's messages, and the replies queued for it are returned (the outbox also puts
        them on the session's open pages). A message sent again (the same client id) is stored
        once and gets the replies it got the first time. Raises ``DialogueUnavailableError`` when
        the dialogue is down: the message stays stored and is answered when it is back."""
        stored = await to_thread.run_sync(
            lambda: store_delivery(self._sessions, delivery, default_language=self.settings.default_language)
        )
        message_id = (stored.new_message_ids or stored.duplicate_ids)[0]
        try:
            reply_ids = await self.processor.process(message_id)
        except DialogueUnavailableError:
            self.processor.retry_later(message_id)
            raise
        return Turn(message_id, reply_ids)

    async def drain(self, limit: float = 30.0) -> None:
        """Wait until both queues are empty (tests and benchmarks)."""
        await asyncio.wait_for(self.processor.queue.join(), limit)
        await asyncio.wait_for(self.outbox.queue.join(), limit)

    async def stop(self) -> None:
        stop = getattr(self, "_stop_polling", None)
        if stop is not None:
            stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for adapter in self.channels.values():
            await adapter.aclose()
