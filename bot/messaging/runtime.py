"""Wires channel adapters, the inbound processor and the outbox into background workers.

Built by the app's lifespan; on start it resumes whatever an earlier process left unfinished
(stored but unprocessed deliveries, queued replies).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from bot.dialogue.rasa_client import RasaClient
from bot.dialogue.responses import ResponseCatalogue
from bot.messaging.inbox import StoredDelivery, pending_outbound, store_delivery, unprocessed_inbound
from bot.messaging.outbox import Outbox, OutboxPolicy
from bot.messaging.processor import InboundProcessor
from bot.messaging.ratelimit import KeyedBuckets, TokenBucket
from bot.settings import Settings
from channels.base import Channel, ParsedDelivery

logger = logging.getLogger(__name__)


class ChannelRuntime:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        rasa: RasaClient,
        responses: ResponseCatalogue,
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
        self.processor = InboundProcessor(
            session_factory,
            rasa,
            self.outbox,
            responses,
            company_name=settings.company_name,
            link_secret=settings.secret_key.get_secret_value(),
            answer_callback=self._answer_callback,
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
            await self.accept(adapter, adapter.parse(body))

        self._tasks.append(asyncio.create_task(adapter.poll(handle, stop=stop)))  # type: ignore[attr-defined]

    async def accept(self, adapter: Channel, delivery: ParsedDelivery) -> StoredDelivery:
        """Persist, then schedule processing. Returns once the delivery is safely stored."""
        stored = await to_thread.run_sync(
            lambda: store_delivery(self._sessions, delivery, default_language=self.settings.default_language)
        )
        self.processor.submit(stored.new_message_ids)
        for message_id in stored.resend_ids:
            self.outbox.submit([message_id])
        return stored

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
