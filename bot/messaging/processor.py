"""Handling stored inbound channel messages: identify the sender, ask the dialogue, queue replies.

A message is marked processed in the same transaction that queues its replies, so a crash
before that point means it is handled again at the next start, never dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Conversation, Debtor, Message
from bot.dialogue.rasa_client import RasaClient
from bot.dialogue.responses import ResponseCatalogue
from bot.errors import DialogueUnavailableError
from bot.messaging.outbox import Outbox
from bot.services.audit import audit
from bot.services.identity import debtor_by_phone, debtor_by_telegram_chat, link_conversation
from bot.services.linking import read_link_token

logger = logging.getLogger(__name__)


@dataclass
class _Plan:
    """What to do for one message, decided inside a database transaction."""

    conversation_id: int
    rasa_sender: str
    language: str
    dialogue_text: str | None
    notices: list[str] = field(default_factory=list)
    newly_verified: bool = False
    account_ref: str | None = None
    callback_id: str | None = None
    channel: str = ""


class InboundProcessor:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        rasa: RasaClient,
        outbox: Outbox,
        responses: ResponseCatalogue,
        *,
        company_name: str,
        link_secret: str,
        answer_callback: Callable[[str, str], Awaitable[None]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        retry_delay: float = 5.0,
    ) -> None:
        self._sessions = session_factory
        self._rasa = rasa
        self._outbox = outbox
        self._responses = responses
        self._company = company_name
        self._link_secret = link_secret
        self._answer_callback = answer_callback
        self._clock = clock
        self._retry_delay = retry_delay
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.queue: asyncio.Queue[int] = asyncio.Queue()

    def submit(self, message_ids: list[int]) -> None:
        for message_id in message_ids:
            self.queue.put_nowait(message_id)

    def _render(self, name: str, language: str) -> dict[str, Any]:
        return self._responses.render(name, language, company_name=self._company)

    def _identify(self, session: Session, conversation: Conversation, payload: dict[str, Any]) -> list[str]:
        """Link the sender to a debtor where the channel proves who they are; return notices to send."""
        kind = payload.get("kind")
        now = self._clock()
        if kind == "start" and payload.get("start_token"):
            debtor_id = read_link_token(self._link_secret, payload["start_token"], now=now)
            debtor = session.get(Debtor, debtor_id) if debtor_id else None
            if debtor is None:
                return ["utter_link_invalid"]
            debtor.telegram_chat_id = conversation.sender_id
            link_conversation(session, conversation, debtor, how="telegram_deep_link", now=now)
            return ["utter_telegram_linked"]
        if kind == "contact" and payload.get("contact_phone"):
            debtor = debtor_by_phone(session, payload["contact_phone"])
            if debtor is None:
                return ["utter_contact_not_found"]
            if conversation.channel == "telegram":
                debtor.telegram_chat_id = conversation.sender_id
            link_conversation(session, conversation, debtor, how="shared_contact", now=now)
            return ["utter_telegram_linked"]
        if conversation.verified:
            return []
        if conversation.channel == "whatsapp":
            debtor = debtor_by_phone(session, conversation.sender_id)
            if debtor is not None:
                link_conversation(session, conversation, debtor, how="whatsapp_number", now=now)
        elif conversation.channel == "telegram":
            debtor = debtor_by_telegram_chat(session, conversation.sender_id)
            if debtor is not None:
                link_conversation(session, conversation, debtor, how="telegram_chat", now=now)
        return []

    def _plan(self, message_id: int) -> _Plan | None:
        with self._sessions.begin() as session:
            message = session.get(Message, message_id)
            if message is None or message.processed_at is not None:
                return None
            conversation = session.get(Conversation, message.conversation_id)
            assert conversation is not None
            payload = message.payload or {}
            was_verified = conversation.verified
            notices = self._identify(session, conversation, payload)
            kind = payload.get("kind")
            text: str | None
            if kind in ("text", "button"):
                text = message.text
            elif kind in ("start", "contact"):
                text = "/greet"
            elif kind == "media":
                audit(
                    session,
                    actor="bot",
                    action="payment_proof.received",
                    entity_type="message",
                    entity_id=message.id,
                    conversation_id=conversation.id,
                    details={"attachments": payload.get("attachments")},
                )
                notices.append("utter_proof_received")
                text = None
            else:
                notices.append("utter_unsupported_message")
                text = None
            if conversation.status != "bot":
                text = None  # a person owns the conversation: the bot stays silent
                notices = []
            return _Plan(
                conversation_id=conversation.id,
                rasa_sender=conversation.rasa_sender_id,
                language=conversation.language or "id",
                dialogue_text=text,
                notices=notices,
                newly_verified=conversation.verified and not was_verified,
                account_ref=conversation.account.ref if conversation.account else None,
                callback_id=payload.get("callback_id"),
                channel=conversation.channel,
            )

    def _complete(self, message_id: int, plan: _Plan, replies: list[dict[str, Any]]) -> list[int]:
        with self._sessions.begin() as session:
            message = session.get(Message, message_id)
            assert message is not None
            if message.processed_at is not None:
                return []
            conversation = session.get(Conversation, plan.conversation_id)
            assert conversation is not None
            notices = [self._render(name, plan.language) for name in plan.notices]
            rows = self._outbox.enqueue_sync(session, conversation, notices + replies, author="bot")
            message.processed_at = self._clock()
            return [row.id for row in rows]

    async def process(self, message_id: int) -> None:
        plan = await to_thread.run_sync(self._plan, message_id)
        if plan is None:
            return
        async with self._locks[plan.conversation_id]:
            if plan.callback_id and self._answer_callback is not None:
                try:
                    await self._answer_callback(plan.channel, plan.callback_id)
                except Exception:  # answering a button press is a courtesy; never block the reply
                    logger.warning("could not answer callback %s", plan.callback_id, exc_info=True)
            if plan.newly_verified:
                await self._rasa.set_slots(
                    plan.rasa_sender, {"verified": True, "language": plan.language, "account_ref": plan.account_ref}
                )
            replies: list[dict[str, Any]] = []
            if plan.dialogue_text:
                replies = await self._rasa.send_message(plan.rasa_sender, plan.dialogue_text)
                replies = [{k: v for k, v in r.items() if k != "recipient_id"} for r in replies]
            ids = await to_thread.run_sync(partial(self._complete, message_id, plan, replies))
        self._outbox.submit(ids, conversation_id=plan.conversation_id)

    async def worker(self) -> None:
        while True:
            message_id = await self.queue.get()
            try:
                await self.process(message_id)
            except DialogueUnavailableError:
                logger.warning("dialogue unavailable; message %s will be retried", message_id)
                asyncio.get_running_loop().call_later(self._retry_delay, self.queue.put_nowait, message_id)
            except Exception:  # the outer boundary of a worker: log, keep the worker alive
                logger.exception("processing message %s failed; it stays unprocessed", message_id)
            finally:
                self.queue.task_done()
