"""The web chat adapter. Its "platform" is the app itself: a browser page holds a live connection
(server-sent events) per chat session, and sending a message means putting it on the open pages
of that session. With no page open the message is not lost: it stays queued and the page shows it
from the history when it opens again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from channels.base import (
    InboundKind,
    InboundMessage,
    OutboundMessage,
    ParsedDelivery,
    PayloadError,
    PermanentSendError,
    RecipientAwayError,
    SendResult,
)

PAGE_QUEUE_SIZE = 200  # events waiting for one slow page; past this the page is treated as gone


class PageConnections:
    """The open pages of each chat session (several tabs are several pages), in this process."""

    def __init__(self) -> None:
        self._pages: defaultdict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    def open(self, session_id: str) -> asyncio.Queue[dict[str, Any]]:
        page: asyncio.Queue[dict[str, Any]] = asyncio.Queue(PAGE_QUEUE_SIZE)
        self._pages[session_id].add(page)
        return page

    def close(self, session_id: str, page: asyncio.Queue[dict[str, Any]]) -> None:
        pages = self._pages.get(session_id)
        if pages is not None:
            pages.discard(page)
            if not pages:
                del self._pages[session_id]

    def is_open(self, session_id: str) -> bool:
        return bool(self._pages.get(session_id))

    def push(self, session_id: str, event: dict[str, Any]) -> int:
        """Put ``event`` on every open page of the session; returns how many took it."""
        taken = 0
        for page in list(self._pages.get(session_id, ())):
            try:
                page.put_nowait(event)
                taken += 1
            except asyncio.QueueFull:
                self.close(session_id, page)  # a page that stopped reading; it reloads the history
        return taken


class WebChannel:
    name = "web"

    def __init__(self, pages: PageConnections | None = None) -> None:
        self.pages = pages or PageConnections()

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Nothing to verify here: a page's requests carry the app's signed session cookie, which
        the app's routes check before a message reaches the channel."""

    def parse(self, body: bytes) -> ParsedDelivery:
        raise PayloadError("web chat messages arrive through the app's /chat and /webhooks/rest routes")

    def message(
        self,
        session_id: str,
        text: str,
        *,
        message_id: str | None = None,
        kind: InboundKind = "text",
        origin: str | None = None,
        language: str | None = None,
        title: str | None = None,
        now: datetime | None = None,
    ) -> ParsedDelivery:
        """One typed message, or a quick reply pressed (``kind="button"``: ``text`` is its payload,
        ``title`` what the button said). ``message_id`` is the client's id for the message, so a
        retry of the same message is stored once; a fresh one is made when the client has none."""
        raw = {"title": title} if title else {}
        return ParsedDelivery(
            messages=(
                InboundMessage(
                    channel=self.name,
                    sender_id=session_id,
                    message_id=message_id or f"rest:{uuid.uuid4().hex}",
                    kind=kind,
                    timestamp=now or datetime.now(timezone.utc),
                    text=text,
                    origin=origin,
                    language=language,
                    raw=raw,
                ),
            )
        )

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.reference is None:
            raise PermanentSendError("a web chat message needs its reference (the stored message id)")
        event = {
            "id": int(message.reference),
            "direction": "out",
            "author": message.author,
            "text": message.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in message.buttons],
            "at": (message.created_at or datetime.now(timezone.utc)).isoformat(),
        }
        if not self.pages.push(message.recipient_id, event):
            raise RecipientAwayError("no web chat page is open; the message is shown when one opens")
        return SendResult(platform_message_id=f"out:{message.reference}")

    async def aclose(self) -> None:
        return None
