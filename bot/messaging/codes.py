"""Sending identity codes to the debtor's own channel on file.

A code goes straight to the platform (not through the outbox): it is only worth sending now, and the
outbox would keep its text. What is stored is a masked note in the debtor's conversation on that
channel, so agents see that a code went out, never the code. On WhatsApp a code is always a template
(an authentication template the lender has approved), which works inside and outside the 24-hour
window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from bot.dialogue.responses import Responses
from bot.services.audit import audit
from bot.services.conversations import get_or_create_conversation, record_outbound
from bot.services.identity_checks import CodeDelivery
from channels.base import Channel, ChannelError, OutboundMessage, TemplateMessage

logger = logging.getLogger(__name__)
MASK_SENT = "[kode verifikasi dikirim · verification code sent]"


class CodeSender:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        channels: Mapping[str, Channel],
        responses: Responses,
        *,
        company_name: str,
        template_name: str,
        template_languages: Mapping[str, str],
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = session_factory
        self._channels = channels
        self._responses = responses
        self._company = company_name
        self._template_name = template_name
        self._template_languages = template_languages
        self._clock = clock

    def _message(self, delivery: CodeDelivery) -> OutboundMessage:
        if delivery.channel == "whatsapp":
            language = self._template_languages.get(delivery.language, delivery.language)
            template = TemplateMessage(self._template_name, language, (delivery.code,))
            return OutboundMessage(channel="whatsapp", recipient_id=delivery.address, template=template)
        text = self._responses.render(
            "utter_identity_code_message", delivery.language, code=delivery.code, company_name=self._company
        )["text"]
        return OutboundMessage(channel=delivery.channel, recipient_id=delivery.address, text=text)

    async def send(self, delivery: CodeDelivery) -> bool:
        """Send one code; False (logged and audited) when the platform refused it. The sender is told
        the same either way, and can start again once the code step runs out."""
        adapter = self._channels.get(delivery.channel)
        error: str | None = None
        platform_id: str | None = None
        if adapter is None:
            error = f"the {delivery.channel} channel is not configured"
        else:
            try:
                platform_id = (await adapter.send(self._message(delivery))).platform_message_id
            except ChannelError as exc:
                error = f"{type(exc).__name__}: {exc}"
        if error:
            logger.warning("identity code for debtor %s not sent: %s", delivery.debtor_id, error)
        await to_thread.run_sync(self._record, delivery, platform_id, error)
        return error is None

    def _record(self, delivery: CodeDelivery, platform_id: str | None, error: str | None) -> None:
        with self._sessions.begin() as session:
            conversation, _ = get_or_create_conversation(
                session, channel=delivery.channel, sender_id=delivery.address, language=delivery.language
            )
            [row] = record_outbound(
                session,
                conversation,
                [{"text": MASK_SENT}],
                author="system",
                delivery_status="failed" if error else "sent",
            )
            row.channel_message_id = platform_id
            row.error = error
            audit(
                session,
                actor="bot",
                action="identity.code_sent" if error is None else "identity.code_failed",
                entity_type="debtor",
                entity_id=delivery.debtor_id,
                conversation_id=conversation.id,
                details={"channel": delivery.channel, **({"error": error[:300]} if error else {})},
            )
