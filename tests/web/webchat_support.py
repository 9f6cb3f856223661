"""Web chat helpers: the app on a real port with the dialogue at a fake Rasa (which echoes each
message back), browser-like clients that keep the session cookie, and a reader for the page's live
connection (server-sent events)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Conversation, Message
from bot.db.session import make_engine, make_session_factory, migrate
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.chat_session import COOKIE
from tests.fakes.rasa_http import FakeRasaServer
from tests.support import AppServer, channel_settings, fixed_clock, free_port, make_settings


@dataclass
class ChatApp:
    url: str
    settings: Settings
    factory: sessionmaker[Session]
    rasa: FakeRasaServer

    def browser(self) -> httpx.Client:
        """A client that opened /chat: it holds a session cookie of its own."""
        client = httpx.Client(base_url=self.url, timeout=30)
        assert client.get("/chat").status_code == 200
        assert client.cookies.get(COOKIE)
        return client

    def conversation(self, client: httpx.Client) -> Conversation | None:
        with self.factory() as session:
            return session.scalar(
                select(Conversation).where(Conversation.channel == "web", Conversation.sender_id == session_id(client))
            )

    def messages(self, client: httpx.Client) -> list[Message]:
        conversation = self.conversation(client)
        if conversation is None:
            return []
        with self.factory() as session:
            return list(
                session.scalars(select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id))
            )


def session_id(client: httpx.Client) -> str:
    return str(client.cookies.get(COOKIE)).split(".")[0]


def say(client: httpx.Client, text: str, *, client_id: str | None = None, title: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"text": text, "client_id": client_id or uuid.uuid4().hex}
    if title:
        body["title"] = title
    return client.post("/chat/api/messages", json=body)


@contextmanager
def chat_app(tmp: Path, graph_api: Any, bot_api: Any, **overrides: object) -> Iterator[ChatApp]:
    with FakeRasaServer() as rasa:
        port = free_port()
        settings = make_settings(
            tmp,
            TAGIH_PORT=port,
            TAGIH_RASA_URL=rasa.base_url,
            TAGIH_RASA_TIMEOUT=5,
            **channel_settings(graph_api.base_url, bot_api.base_url),
            **overrides,
        )
        migrate(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with AppServer(create_app(settings, clock=fixed_clock), port) as server:
                yield ChatApp(server.url, settings, make_session_factory(engine), rasa)
        finally:
            engine.dispose()


@dataclass
class LiveEvents:
    """The page's live connection, read in a background thread."""

    events: list[dict[str, Any]] = field(default_factory=list)
    opened: threading.Event = field(default_factory=threading.Event)
    status: int | None = None

    def texts(self) -> list[str]:
        return [e.get("text") or "" for e in list(self.events)]


@contextmanager
def live_events(app: ChatApp, client: httpx.Client) -> Iterator[LiveEvents]:
    seen = LiveEvents()
    reader = httpx.Client(base_url=app.url, cookies=client.cookies, timeout=httpx.Timeout(30, read=None))

    def read() -> None:
        try:
            with reader.stream("GET", "/chat/api/events") as response:
                seen.status = response.status_code
                seen.opened.set()
                if response.status_code != 200:
                    return
                kind = None
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        kind = line.removeprefix("event: ")
                    elif line.startswith("data: ") and kind == "message":
                        seen.events.append(json.loads(line.removeprefix("data: ")))
        except (httpx.HTTPError, RuntimeError):
            seen.opened.set()  # closed by the test

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    assert seen.opened.wait(10), "the live connection did not open"
    try:
        yield seen
    finally:
        reader.close()
        thread.join(5)
