"""Every console route without a session, with the wrong role, without or with a wrong CSRF token,
and an agent acting in a conversation another agent has claimed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.db.models import AuditLog, Message
from bot.db.session import make_engine, make_session_factory, migrate
from bot.web.app import create_app
from tests.console.conftest import NOW
from tests.console_support import logged_in_clients, make_user
from tests.support import make_settings

AGENT, OTHER, ADMIN = "ana@tagih.example", "budi@tagih.example", "admin@tagih.example"


@pytest.fixture
def settings(tmp_path: Path):
    return make_settings(tmp_path)


@pytest.fixture
def factory(settings):
    migrate(settings.database_url)
    return make_session_factory(make_engine(settings.database_url))


@pytest.fixture
def app(settings, factory):
    for email, role in ((AGENT, "agent"), (OTHER, "agent"), (ADMIN, "admin")):
        make_user(factory, email, role)
    return create_app(settings, clock=lambda: NOW)


@pytest.fixture
def anonymous(app) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def session_for(app) -> Iterator[object]:
    with logged_in_clients(app) as open_client:
        yield open_client


def routes(waiting) -> list[tuple[str, str, dict | None]]:
    c, h = waiting.conversation_id, waiting.handoff_id
    return [
        ("GET", "/console/api/queue", None),
        ("GET", f"/console/api/conversations/{c}", None),
        ("GET", f"/console/api/conversations/{c}/canned", None),
        ("POST", f"/console/api/handoffs/{h}/claim", {}),
        ("POST", f"/console/api/handoffs/{h}/release", {}),
        ("POST", f"/console/api/handoffs/{h}/reassign", {"to": OTHER}),
        ("POST", f"/console/api/conversations/{c}/reply", {"text": "Halo"}),
        ("POST", f"/console/api/conversations/{c}/notes", {"text": "catatan"}),
        ("POST", f"/console/api/conversations/{c}/promise", {"amount": "100000", "date": "2026-12-01"}),
        ("POST", f"/console/api/conversations/{c}/plan", {"installments": 3, "first_date": "2026-12-01"}),
        ("POST", f"/console/api/conversations/{c}/claims/{waiting.claim_id}", {"confirm": True}),
        ("POST", f"/console/api/conversations/{c}/proposals/1", {"accept": False}),
        ("POST", f"/console/api/conversations/{c}/dispute", {"resume": True}),
        ("POST", f"/console/api/conversations/{c}/resolve", {}),
    ]


def test_without_a_session_api_is_401_and_pages_redirect(anonymous, waiting):
    for method, path, body in routes(waiting):
        response = anonymous.request(method, path, json=body)
        assert response.status_code == 401, (method, path, response.status_code)
    assert anonymous.get("/console/api/events").status_code == 401
    for page in ("/console", f"/console/conversations/{waiting.conversation_id}"):
        response = anonymous.get(page)
        assert response.status_code == 303 and response.headers["location"].startswith("/console/login?next=")


def test_missing_or_wrong_csrf_token_is_refused_and_changes_nothing(session_for, factory, waiting):
    client, token = session_for(AGENT)
    for method, path, body in routes(waiting):
        if method != "POST":
            continue
        assert client.post(path, json=body).status_code == 403, path
        assert client.post(path, json=body, headers={"X-CSRF-Token": token + "x"}).status_code == 403, path
    with factory() as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.actor.like("agent:%"))).all()
        assert actions == ["user.login"], "nothing but the login happened"


def test_agents_cannot_reassign(session_for, waiting):
    client, token = session_for(AGENT)
    response = client.post(
        f"/console/api/handoffs/{waiting.handoff_id}/reassign", json={"to": AGENT}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 403
    admin, admin_token = session_for(ADMIN)
    response = admin.post(
        f"/console/api/handoffs/{waiting.handoff_id}/reassign",
        json={"to": OTHER},
        headers={"X-CSRF-Token": admin_token},
    )
    assert response.status_code == 200 and response.json()["assigned_to"] == OTHER


def test_another_agent_cannot_act_in_a_claimed_conversation(session_for, factory, waiting):
    ana, ana_token = session_for(AGENT)
    budi, budi_token = session_for(OTHER)
    c = waiting.conversation_id
    assert (
        ana.post(f"/console/api/handoffs/{waiting.handoff_id}/claim", headers={"X-CSRF-Token": ana_token}).status_code
        == 200
    )
    assert (
        budi.post(f"/console/api/handoffs/{waiting.handoff_id}/claim", headers={"X-CSRF-Token": budi_token}).status_code
        == 409
    )
    for path, body in (
        ("reply", {"text": "Saya ambil alih"}),
        ("resolve", {}),
        ("promise", {"amount": "1", "date": "2026-12-01"}),
    ):
        response = budi.post(f"/console/api/conversations/{c}/{path}", json=body, headers={"X-CSRF-Token": budi_token})
        assert response.status_code == 403, path
    response = ana.post(
        f"/console/api/conversations/{c}/reply", json={"text": "Halo, saya Ana"}, headers={"X-CSRF-Token": ana_token}
    )
    assert response.status_code == 201
    with factory() as session:
        authors = session.scalars(
            select(Message.author).where(Message.conversation_id == c, Message.direction == "out")
        ).all()
    assert authors == ["agent"]
    resolved = ana.post(f"/console/api/conversations/{c}/resolve", headers={"X-CSRF-Token": ana_token})
    assert resolved.status_code == 200 and resolved.json()["agent_turns"] == 1


def test_bad_input_gets_a_reason(session_for, waiting):
    client, token = session_for(AGENT)
    client.post(f"/console/api/handoffs/{waiting.handoff_id}/claim", headers={"X-CSRF-Token": token})
    c = waiting.conversation_id
    empty = client.post(f"/console/api/conversations/{c}/reply", json={"text": "  "}, headers={"X-CSRF-Token": token})
    assert empty.status_code == 422 and "empty" in empty.text
    bad = client.post(
        f"/console/api/conversations/{c}/promise",
        json={"amount": "-5", "date": "2026-12-01"},
        headers={"X-CSRF-Token": token},
    )
    assert bad.status_code == 422 and "positive" in bad.text
    missing = client.get("/console/api/conversations/999999")
    assert missing.status_code == 404
    offer = f"/console/api/conversations/{c}/proposals"
    unknown = client.post(f"{offer}/999999", json={"accept": True}, headers={"X-CSRF-Token": token})
    assert unknown.status_code == 404 and "no proposal" in unknown.text
    for body in ({"accept": "maybe"}, {"accept": True, "first_date": "tomorrow"}, {}):
        response = client.post(f"{offer}/999999", json=body, headers={"X-CSRF-Token": token})
        assert response.status_code == 422, body


def test_pages_render_for_a_logged_in_agent(session_for, waiting):
    client, token = session_for(AGENT)
    page = client.get("/console")
    assert page.status_code == 200 and AGENT in page.text and token in page.text
    conversation = client.get(f"/console/conversations/{waiting.conversation_id}")
    assert conversation.status_code == 200 and "Resolve" in conversation.text
