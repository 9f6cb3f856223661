"""The one inbound pipeline, for every channel: a stored message is identified (who sent it, is it
an identity answer), given to the dialogue unless a person owns the conversation, and its replies
are queued in the outbox. WhatsApp and Telegram deliveries are processed by background workers;
a web chat turn is processed while its sender waits, by the same :meth:`InboundProcessor.process`.

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
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Conversation, Debtor, Message
from bot.dialogue.rasa_client import RasaClient
from bot.dialogue.responses import Responses
from bot.errors import ConflictError, DialogueUnavailableError, ForbiddenError, NotFoundError
from bot.messaging.codes import CodeSender
from bot.messaging.outbox import Outbox
from bot.services.audit import audit
from bot.services.identity import debtor_by_phone, debtor_by_telegram_chat, link_conversation
from bot.services.identity_checks import CodeDelivery, IdentityScreen
from bot.services.language import follow_language
from bot.services.linking import (
    DECISION,
    Notice,
    consume_link_token,
    decide_link_request,
    link_telegram_chat,
    read_link_token,
)

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
    code: CodeDelivery | None = None
    switched_language: str | None = None
    elsewhere: list[tuple[int, list[int]]] = field(default_factory=list)


class InboundProcessor:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        rasa: RasaClient,
        outbox: Outbox,
        responses: Responses,
        *,
        company_name: str,
        link_secret: str,
        answer_callback: Callable[[str, str], Awaitable[None]] | None = None,
        screen: IdentityScreen | None = None,
        codes: CodeSender | None = None,
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
        self._screen = screen
        self._codes = codes
        self._clock = clock
        self._retry_delay = retry_delay
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.queue: asyncio.Queue[int] = asyncio.Queue()

    def submit(self, message_ids: list[int]) -> None:
        for message_id in message_ids:
            self.queue.put_nowait(message_id)

    def _render(self, name: str, language: str) -> dict[str, Any]:
        return self._responses.render(name, language, company_name=self._company)

    def _queue_notices(self, session: Session, notices: list[Notice]) -> list[tuple[int, list[int]]]:
        """Queue messages for other conversations (e.g. the debtor's chat on file) in this transaction."""
        queued = []
        for notice in notices:
            target = session.get(Conversation, notice.conversation_id)
            assert target is not None
            rendered = self._responses.render(
                notice.response, target.language or "id", company_name=self._company, **notice.values
            )
            rows = self._outbox.enqueue_sync(session, target, [rendered], author="bot")
            queued.append((target.id, [row.id for row in rows]))
        return queued

    def _link(self, session: Session, conversation: Conversation, debtor: Debtor, *, how: str) -> list[Notice]:
        if conversation.channel != "telegram":
            link_conversation(session, conversation, debtor, how=how, now=self._clock())
            return [Notice(conversation.id, "utter_telegram_linked")]
        outcome = link_telegram_chat(session, conversation, debtor, how=how, now=self._clock())
        return [Notice(conversation.id, "utter_telegram_linked")] if outcome.linked else outcome.notices

    def _identify(
        self, session: Session, conversation: Conversation, payload: dict[str, Any], text: str | None
    ) -> list[Notice]:
        """Link the sender to a debtor where the channel proves who they are; return notices to send."""
        kind = payload.get("kind")
        now = self._clock()
        decision = DECISION.match((text or "").strip()) if kind in ("button", "text") else None
        if decision is not None:
            try:
                outcome = decide_link_request(
                    session,
                    int(decision.group(2)),
                    approve=decision.group(1) == "approve",
                    by=f"debtor:{conversation.channel}:{conversation.sender_id}",
                    now=now,
                    via=conversation,
                )
            except (NotFoundError, ConflictError, ForbiddenError) as exc:
                logger.info("link decision from conversation %s not applied: %s", conversation.id, exc)
                return []
            return outcome.notices
        if kind == "start" and payload.get("start_token"):
            token = payload["start_token"]
            debtor_id = read_link_token(self._link_secret, token, now=now)
            debtor = session.get(Debtor, debtor_id) if debtor_id else None
            if debtor is None or not consume_link_token(session, token, now=now):
                return [Notice(conversation.id, "utter_link_invalid")]
            return self._link(session, conversation, debtor, how="telegram_deep_link")
        if kind == "contact" and payload.get("contact_phone"):
            debtor = debtor_by_phone(session, payload["contact_phone"])
            if debtor is None:
                return [Notice(conversation.id, "utter_contact_not_found")]
            return self._link(session, conversation, debtor, how="shared_contact")
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
            if "kind" not in payload and message.text:
                payload = {**payload, "kind": "text"}  # stored by the app itself before kinds were kept
            was_verified = conversation.verified
            found = self._identify(session, conversation, payload, message.text)
            notices = [n.response for n in found if n.conversation_id == conversation.id and not n.values]
            elsewhere = self._queue_notices(
                session, [n for n in found if n.conversation_id != conversation.id or n.values]
            )
            kind = payload.get("kind")
            decided = kind in ("button", "text") and DECISION.match((message.text or "").strip()) is not None
            # linked by the channel itself (a number on file, a linked chat); an identity check
            # answered below is completed by the dialogue, which sets its own slots
            newly_linked = conversation.verified and not was_verified
            text: str | None
            if decided:
                text = None  # a link decision is for the app, not the dialogue
            elif kind in ("text", "button"):
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
            code = None
            if text and payload.get("identity_answer"):
                text = payload.get("dialogue_text")  # screened at an earlier try the dialogue missed
            elif text and self._screen is not None:
                # Identity answers are checked here; neither database keeps them as typed.
                address = payload.get("origin") or f"{conversation.channel}:{conversation.sender_id}"
                screened = self._screen(session, conversation, text, address=address)
                if screened is not None:
                    message.text = screened.stored_text
                    message.payload = {
                        **payload,
                        "raw": {"withheld": "identity answer"},
                        "identity_answer": screened.answer,
                        "dialogue_text": screened.dialogue_text,  # the app's token, not the answer
                    }
                    text, code = screened.dialogue_text, screened.delivery
            switched = follow_language(conversation, message.text) if kind == "text" and message.text else None
            if conversation.status != "bot":
                text = None  # a person owns the conversation: the bot stays silent
                notices = []
            return _Plan(
                conversation_id=conversation.id,
                rasa_sender=conversation.rasa_sender_id,
                language=conversation.language or "id",
                dialogue_text=text,
                notices=notices,
                newly_verified=newly_linked,
                account_ref=conversation.account.ref if conversation.account else None,
                callback_id=payload.get("callback_id"),
                channel=conversation.channel,
                code=code,
                switched_language=switched,
                elsewhere=elsewhere,
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

    def _conversation_of(self, message_id: int) -> int | None:
        with self._sessions() as session:
            return session.scalar(select(Message.conversation_id).where(Message.id == message_id))

    def replies_to(self, message_id: int) -> list[int]:
        """The bot's answers to an inbound message already processed: what it wrote after the
        message and before the debtor's next one."""
        with self._sessions() as session:
            message = session.get(Message, message_id)
            if message is None or message.processed_at is None:
                return []
            following = select(func.min(Message.id)).where(
                Message.conversation_id == message.conversation_id, Message.direction == "in", Message.id > message_id
            )
            upper = session.scalar(following)
            query = select(Message.id).where(
                Message.conversation_id == message.conversation_id,
                Message.direction == "out",
                Message.author == "bot",
                Message.id > message_id,
            )
            if upper is not None:
                query = query.where(Message.id < upper)
            return list(session.scalars(query.order_by(Message.id)))

    async def process(self, message_id: int) -> list[int]:
        """Handle one stored inbound message; returns the ids of the replies queued for its own
        conversation (for a message handled before: the replies it got then)."""
        conversation_id = await to_thread.run_sync(self._conversation_of, message_id)
        if conversation_id is None:
            return []
        # One message of a conversation at a time, from the identity check to the queued replies.
        async with self._locks[conversation_id]:
            plan = await to_thread.run_sync(self._plan, message_id)
            if plan is None:
                return await to_thread.run_sync(self.replies_to, message_id)
            if plan.callback_id and self._answer_callback is not None:
                try:
                    await self._answer_callback(plan.channel, plan.callback_id)
                except Exception:  # answering a button press is a courtesy; never block the reply
                    logger.warning("could not answer callback %s", plan.callback_id, exc_info=True)
            if plan.code is not None and self._codes is not None:
                await self._codes.send(plan.code)
            if plan.newly_verified:
                await self._rasa.set_slots(
                    plan.rasa_sender, {"verified": True, "language": plan.language, "account_ref": plan.account_ref}
                )
            replies: list[dict[str, Any]] = []
            if plan.switched_language and plan.dialogue_text and not plan.newly_verified:
                await self._rasa.set_slots(plan.rasa_sender, {"language": plan.switched_language})
            if plan.dialogue_text:
                replies = await self._rasa.send_message(plan.rasa_sender, plan.dialogue_text)
                replies = [{k: v for k, v in r.items() if k != "recipient_id"} for r in replies]
            ids = await to_thread.run_sync(partial(self._complete, message_id, plan, replies))
        self._outbox.submit(ids, conversation_id=plan.conversation_id)
        for other_id, message_ids in plan.elsewhere:
            self._outbox.submit(message_ids, conversation_id=other_id)
        return ids

    def retry_later(self, message_id: int) -> None:
        """The dialogue was unavailable: the message stays stored and is processed again shortly."""
        logger.warning("dialogue unavailable; message %s will be retried", message_id)
        asyncio.get_running_loop().call_later(self._retry_delay, self.queue.put_nowait, message_id)

    async def worker(self) -> None:
        while True:
            message_id = await self.queue.get()
            try:
                await self.process(message_id)
            except DialogueUnavailableError:
                self.retry_later(message_id)
            except Exception:  # the outer boundary of a worker: log, keep the worker alive
                logger.exception("processing message %s failed; it stays unprocessed", message_id)
            finally:
                self.queue.task_done()
