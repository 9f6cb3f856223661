"""The one path for messages to debtors on every channel (bot and agent replies, reminders,
notices): rows are written as ``queued`` first, then sent with rate limits, retries with backoff on
transient failures, and a final ``failed`` carrying the platform's error. A web chat message with
no page open stays ``queued`` (not failed): the page shows it from the history when it opens.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Conversation, Message
from bot.services.contact import record_opt_out
from bot.services.conversations import record_outbound
from channels.base import (
    Button,
    Channel,
    OutboundMessage,
    OutsideWindowError,
    PermanentSendError,
    RateLimitedError,
    RecipientAwayError,
    RecipientOptedOutError,
    SendError,
    TemplateMessage,
    TransientSendError,
)

logger = logging.getLogger(__name__)
WHATSAPP_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class OutboxPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    template_name: str = "tagih_follow_up"
    template_languages: Mapping[str, str] = None  # type: ignore[assignment]
    company_name: str = "Tagih Finance"

    def template_language(self, language: str | None) -> str:
        languages = self.template_languages or {"id": "id", "en": "en_US"}
        return languages.get(language or "id", languages.get("id", "id"))


@dataclass(frozen=True)
class _Job:
    message: OutboundMessage
    attempts: int
    conversation_id: int


class Outbox:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        channels: Mapping[str, Channel],
        *,
        policy: OutboxPolicy,
        limiters: Mapping[str, Callable[[str], Any]],
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._sessions = session_factory
        self._channels = channels
        self._policy = policy
        self._limiters = limiters
        self._clock = clock
        self.queue: asyncio.Queue[tuple[int | None, tuple[int, ...]]] = asyncio.Queue()
        self._conversation_locks: defaultdict[int | None, asyncio.Lock] = defaultdict(asyncio.Lock)

    # -- writing -------------------------------------------------------------------------

    def enqueue_sync(
        self, session: Session, conversation: Conversation, replies: Sequence[Mapping[str, Any]], *, author: str
    ) -> list[Message]:
        """Write replies as ``queued`` rows in the caller's transaction; ``submit`` their ids after it."""
        return record_outbound(session, conversation, replies, author=author, delivery_status="queued")

    def submit(self, message_ids: Sequence[int], *, conversation_id: int | None = None) -> None:
        """Queue messages for one conversation. They are sent one after another in this order, and
        after anything submitted earlier for the same ``conversation_id``."""
        if message_ids:
            self.queue.put_nowait((conversation_id, tuple(message_ids)))

    def _retry_later(self, delay: float, message_id: int) -> None:
        asyncio.get_running_loop().call_later(delay, self.queue.put_nowait, (None, (message_id,)))

    # -- sending -------------------------------------------------------------------------

    def _prepare(self, message_id: int) -> _Job | None:
        with self._sessions() as session:
            row = session.get(Message, message_id)
            if row is None or row.delivery_status != "queued":
                return None
            conversation = session.get(Conversation, row.conversation_id)
            assert conversation is not None
            payload = row.payload or {}
            buttons = tuple(Button(b["title"], b["payload"]) for b in payload.get("buttons") or [])
            use_template = conversation.channel == "whatsapp" and (
                payload.get("force_template")
                or conversation.last_inbound_at is None
                or self._clock() - conversation.last_inbound_at > WHATSAPP_WINDOW
            )
            if use_template:
                own = payload.get("template")  # a reminder carries its own approved template
                template = (
                    TemplateMessage(own["name"], own["language"], tuple(own.get("parameters") or ()))
                    if own
                    else TemplateMessage(
                        name=self._policy.template_name,
                        language=self._policy.template_language(conversation.language),
                        parameters=(self._policy.company_name,),
                    )
                )
                content: dict[str, Any] = {"template": template}
            else:
                content = {"text": row.text, "buttons": buttons}
            outbound = OutboundMessage(
                channel=conversation.channel,
                recipient_id=conversation.sender_id,
                reference=str(row.id),
                author=row.author,
                created_at=row.created_at,
                **content,
            )
            return _Job(outbound, row.attempts, conversation.id)

    def _finish(
        self,
        message_id: int,
        *,
        status: str,
        platform_id: str | None = None,
        error: SendError | None = None,
        retry_at: datetime | None = None,
        force_template: bool = False,
        opted_out: bool = False,
    ) -> None:
        with self._sessions.begin() as session:
            row = session.get(Message, message_id)
            assert row is not None
            row.attempts += 1
            row.delivery_status = status
            row.next_attempt_at = retry_at
            if platform_id:
                row.channel_message_id = platform_id
                row.error = None
            if error is not None:
                row.error = f"{error.code or type(error).__name__}: {error.title or error}"
            if force_template:
                row.payload = {**(row.payload or {}), "force_template": True}
            if opted_out:
                conversation = session.get(Conversation, row.conversation_id)
                assert conversation is not None
                record_opt_out(
                    session,
                    channel=conversation.channel,
                    address=conversation.sender_id,
                    debtor_id=conversation.debtor_id,
                    source="platform",
                    conversation_id=conversation.id,
                )

    async def send_one(self, message_id: int) -> None:
        job = await to_thread.run_sync(self._prepare, message_id)
        if job is None:
            return
        channel = self._channels.get(job.message.channel)
        if channel is None:
            await to_thread.run_sync(
                partial(self._finish, message_id, status="failed", error=PermanentSendError("channel not configured"))
            )
            return
        limiter = self._limiters.get(job.message.channel)
        if limiter is not None:
            await limiter(job.message.recipient_id)
        attempt = job.attempts + 1
        try:
            result = await channel.send(job.message)
        except RecipientAwayError:
            return  # stays queued, untouched: shown when the recipient opens the chat again
        except OutsideWindowError as exc:
            if job.message.template is None and attempt < self._policy.max_attempts:
                await to_thread.run_sync(
                    partial(self._finish, message_id, status="queued", error=exc, force_template=True)
                )
                self.queue.put_nowait((None, (message_id,)))
                return
            await to_thread.run_sync(partial(self._finish, message_id, status="failed", error=exc))
        except RecipientOptedOutError as exc:
            await to_thread.run_sync(partial(self._finish, message_id, status="failed", error=exc, opted_out=True))
        except TransientSendError as exc:
            if attempt >= self._policy.max_attempts:
                await to_thread.run_sync(partial(self._finish, message_id, status="failed", error=exc))
                return
            delay = self._policy.backoff_seconds * (2 ** (attempt - 1))
            if isinstance(exc, RateLimitedError) and exc.retry_after:
                delay = max(delay, exc.retry_after)
            retry_at = self._clock() + timedelta(seconds=delay)
            await to_thread.run_sync(partial(self._finish, message_id, status="queued", error=exc, retry_at=retry_at))
            self._retry_later(delay, message_id)
        except SendError as exc:
            await to_thread.run_sync(partial(self._finish, message_id, status="failed", error=exc))
        else:
            await to_thread.run_sync(
                partial(self._finish, message_id, status="sent", platform_id=result.platform_message_id)
            )

    async def send_batch(self, message_ids: Sequence[int]) -> None:
        """Send in order; a failure of one message is logged and the rest still go out."""
        for message_id in message_ids:
            try:
                await self.send_one(message_id)
            except Exception:  # the outer boundary of a send: log, keep going
                logger.exception("sending message %s failed unexpectedly", message_id)

    async def worker(self) -> None:
        while True:
            conversation_id, batch = await self.queue.get()
            try:
                if conversation_id is None:
                    await self.send_batch(batch)
                else:
                    # taken straight after get(): asyncio locks are fair, so batches keep queue order
                    async with self._conversation_locks[conversation_id]:
                        await self.send_batch(batch)
            finally:
                self.queue.task_done()
