"""Routes an inbound debtor message: store it, then let the bot answer unless a person owns
the conversation. Every reply is stored before it is returned to the channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Conversation, Message
from bot.dialogue.rasa_client import RasaClient
from bot.messaging.codes import CodeSender
from bot.services.conversations import get_or_create_conversation, record_inbound, record_outbound
from bot.services.identity_checks import CodeDelivery, IdentityScreen
from bot.services.language import follow_language, guess_language


@dataclass(frozen=True)
class RoutedTurn:
    message_id: int
    conversation_id: int
    rasa_sender: str
    bot_may_reply: bool
    dialogue_text: str
    code: CodeDelivery | None = None
    language: str | None = None  # the debtor switched language in this message


class ConversationRouter:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        rasa: RasaClient,
        *,
        default_language: str,
        screen: IdentityScreen | None = None,
        codes: CodeSender | None = None,
    ) -> None:
        self._sessions = session_factory
        self._rasa = rasa
        self._default_language = default_language
        self._screen = screen
        self._codes = codes

    def _store_inbound(
        self, channel: str, sender_id: str, text: str, channel_message_id: str | None, address: str
    ) -> RoutedTurn:
        with self._sessions.begin() as session:
            conversation, created = get_or_create_conversation(
                session,
                channel=channel,
                sender_id=sender_id,
                language=guess_language(text, self._default_language),
            )
            # Identity answers are checked here and never stored or passed on as typed.
            screened = self._screen(session, conversation, text, address=address) if self._screen else None
            stored, dialogue_text = (screened.stored_text, screened.dialogue_text) if screened else (text, text)
            payload = {"identity_answer": screened.answer} if screened and screened.answer else None
            message = record_inbound(
                session, conversation, text=stored, channel_message_id=channel_message_id, payload=payload
            )
            switched = None if created else follow_language(conversation, text)
            return RoutedTurn(
                message_id=message.id,
                conversation_id=conversation.id,
                rasa_sender=conversation.rasa_sender_id,
                bot_may_reply=conversation.status == "bot",
                dialogue_text=dialogue_text,
                code=screened.delivery if screened else None,
                language=switched,
            )

    def _store_replies(self, turn: RoutedTurn, replies: list[dict[str, Any]]) -> None:
        with self._sessions.begin() as session:
            conversation = session.get(Conversation, turn.conversation_id)
            assert conversation is not None
            record_outbound(session, conversation, replies)
            message = session.get(Message, turn.message_id)
            assert message is not None
            message.processed_at = datetime.now(timezone.utc)

    async def handle(
        self,
        *,
        channel: str,
        sender_id: str,
        text: str,
        channel_message_id: str | None = None,
        address: str | None = None,
    ) -> list[dict[str, Any]]:
        """``address`` is where the message came from (the client's IP for web chat): wrong identity
        answers are counted per address as well as per account and conversation."""
        turn = await to_thread.run_sync(
            self._store_inbound, channel, sender_id, text, channel_message_id, address or f"{channel}:{sender_id}"
        )
        if turn.code is not None and self._codes is not None:
            await self._codes.send(turn.code)
        if not turn.bot_may_reply:
            await to_thread.run_sync(self._store_replies, turn, [])
            return []
        if turn.language:
            await self._rasa.set_slots(turn.rasa_sender, {"language": turn.language})
        replies = await self._rasa.send_message(turn.rasa_sender, turn.dialogue_text)
        replies = [{k: v for k, v in r.items() if k != "recipient_id"} for r in replies]
        await to_thread.run_sync(self._store_replies, turn, replies)
        return replies
