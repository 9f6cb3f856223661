"""Which conversations the console opens, and that every view is audited.

An agent may open a conversation only if it has or had a handoff; any other id is answered like an
unknown one (404), on every per-conversation route. Admins may open any conversation. Every view
is written to the audit log as ``conversation.viewed``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import AuditLog, Conversation, Handoff, Message, Note
from bot.settings import Settings
from bot.web.app import create_app
from tests.console.conftest import NOW, Waiting, waiting  # noqa: F401 - fixture
from tests.console_support import logged_in_clients
from tests.security.conftest import ADMIN, AGENT


@pytest.fixture
def session_for(settings: Settings, factory: sessionmaker[Session]) -> Iterator[Any]:
    with logged_in_clients(create_app(settings, clock=lambda: NOW)) as open_client:
        yield open_client


@pytest.fixture
def bot_only(factory: sessionmaker[Session]) -> int:
    """A web chat visitor who only ever talked to the bot: no handoff, ever."""
    with factory.begin() as session:
        conversation = Conversation(
            channel="web", sender_id="web-private", rasa_sender_id="web:web-private", status="bot", language="id"
        )
        session.add(conversation)
        session.flush()
        session.add(
            Message(
                conversation_id=conversation.id,
                direction="in",
                channel="web",
                author="debtor",
                text="nomor kontrak saya 1234, tanggal lahir 01-01-1990",
                delivery_status="received",
                created_at=NOW - timedelta(hours=1),
            )
        )
        return conversation.id


def per_conversation_routes(c: int, claim_id: int = 1) -> list[tuple[str, str, dict | None]]:
    return [
        ("GET", f"/console/api/conversations/{c}", None),
        ("GET", f"/console/api/conversations/{c}/canned", None),
        ("GET", f"/console/api/events?conversation_id={c}", None),
        ("POST", f"/console/api/conversations/{c}/reply", {"text": "Halo"}),
        ("POST", f"/console/api/conversations/{c}/notes", {"text": "catatan"}),
        ("POST", f"/console/api/conversations/{c}/promise", {"amount": "100000", "date": "2026-12-01"}),
        ("POST", f"/console/api/conversations/{c}/plan", {"installments": 3, "first_date": "2026-12-01"}),
        ("POST", f"/console/api/conversations/{c}/claims/{claim_id}", {"confirm": True}),
        ("POST", f"/console/api/conversations/{c}/dispute", {"resume": True}),
        ("POST", f"/console/api/conversations/{c}/resolve", {}),
    ]


def audit_rows(factory: sessionmaker[Session], action: str) -> list[tuple[str, int | None]]:
    with factory() as session:
        return [
            (row.actor, row.conversation_id)
            for row in session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))
        ]


def test_an_agent_gets_404_for_a_conversation_that_never_had_a_handoff(
    session_for: Any, factory: sessionmaker[Session], bot_only: int
) -> None:
    client, token = session_for(AGENT)
    unknown = client.get("/console/api/conversations/999999")
    for method, path, body in per_conversation_routes(bot_only):
        response = client.request(method, path, json=body, headers={"X-CSRF-Token": token})
        assert response.status_code == 404, (method, path, response.status_code)
        if path.endswith(f"/conversations/{bot_only}"):
            # worded exactly like an unknown id: nothing tells the id exists
            assert response.json()["detail"] == unknown.json()["detail"].replace("999999", str(bot_only))
    page = client.get(f"/console/conversations/{bot_only}")
    assert page.status_code == 404 and "nomor kontrak" not in page.text
    with factory() as session:
        assert session.scalars(select(Note)).all() == []
        assert session.scalars(select(Message).where(Message.direction == "out")).all() == []
    assert audit_rows(factory, "conversation.viewed") == []


def test_an_agent_opens_a_conversation_that_has_or_had_a_handoff_and_each_view_is_audited(
    session_for: Any,
    factory: sessionmaker[Session],
    waiting: Waiting,  # noqa: F811 - the fixture
) -> None:
    client, _ = session_for(AGENT)
    c = waiting.conversation_id
    assert client.get(f"/console/api/conversations/{c}").status_code == 200
    with factory.begin() as session:  # handed back to the bot: it had a handoff, so it stays open
        session.get(Handoff, waiting.handoff_id).status = "resolved"
        session.get(Conversation, c).status = "bot"
    view = client.get(f"/console/api/conversations/{c}")
    assert view.status_code == 200 and view.json()["handoff"] is None
    assert client.get(f"/console/conversations/{c}").status_code == 200
    assert audit_rows(factory, "conversation.viewed") == [(f"agent:{AGENT}", c), (f"agent:{AGENT}", c)]


def test_an_admin_may_open_any_conversation_and_the_view_is_audited(
    session_for: Any, factory: sessionmaker[Session], bot_only: int
) -> None:
    admin, _ = session_for(ADMIN)
    view = admin.get(f"/console/api/conversations/{bot_only}")
    assert view.status_code == 200 and view.json()["messages"][0]["text"].startswith("nomor kontrak")
    assert admin.get(f"/console/conversations/{bot_only}").status_code == 200
    assert audit_rows(factory, "conversation.viewed") == [(f"agent:{ADMIN}", bot_only)]
    with factory() as session:
        [details] = session.scalars(select(AuditLog.details).where(AuditLog.action == "conversation.viewed")).all()
    assert details == {"role": "admin"}
