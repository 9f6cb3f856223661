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
from bot.services.conversations import get_or_create_conversation, record_inbound, record_outbound
from bot.services.language import guess_language


@dataclass(frozen=True)
class RoutedTurn:
    message_id: int
    conversation_id: int
    rasa_sender: str
    bot_may_reply: bool


class ConversationRouter:
    def __init__(self, session_factory: sessionmaker[Session], rasa: RasaClient, *, default_language: str) -> None:
        self._sessions = session_factory
        self._rasa = rasa
        self._default_language = default_language

    def _store_inbound(self, channel: str, sender_id: str, text: str, channel_message_id: str | None) -> RoutedTurn:
        with self._sessions.begin() as session:
            conversation, created = get_or_create_conversation(
                session,
                channel=channel,
                sender_id=sender_id,
                language=guess_language(text, self._default_language),
            )
            message = record_inbound(session, conversation, text=text, channel_message_id=channel_message_id)
            return RoutedTurn(
                message_id=message.id,
                conversation_id=conversation.id,
                rasa_sender=conversation.rasa_sender_id,
                bot_may_reply=conversation.status == "bot",
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
        self, *, channel: str, sender_id: str, text: str, channel_message_id: str | None = None
    ) -> list[dict[str, Any]]:
        turn = await to_thread.run_sync(self._store_inbound, channel, sender_id, text, channel_message_id)
        if not turn.bot_may_reply:
            await to_thread.run_sync(self._store_replies, turn, [])
            return []
        replies = await self._rasa.send_message(turn.rasa_sender, text)
        replies = [{k: v for k, v in r.items() if k != "recipient_id"} for r in replies]
        await to_thread.run_sync(self._store_replies, turn, replies)
        return replies
