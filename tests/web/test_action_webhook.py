"""The action webhook only runs actions for the Rasa server, and never leaks to the unverified."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.db.session import make_engine, make_session_factory, migrate
from bot.services.accounts import load_demo_if_empty
from bot.services.conversations import get_or_create_conversation
from bot.web.app import create_app
from tests.support import fixed_clock, make_settings


@pytest.fixture
def client(tmp_path: Path):
    settings = make_settings(tmp_path)
    migrate(settings.database_url)
    factory = make_session_factory(make_engine(settings.database_url))
    load_demo_if_empty(factory)
    with factory.begin() as session:
        get_or_create_conversation(session, channel="web", sender_id="anon", language="id")
    with TestClient(create_app(settings, clock=fixed_clock)) as test_client:
        yield test_client


def action_call(action: str, sender: str = "web:anon", slots: dict | None = None) -> dict:
    return {
        "next_action": action,
        "sender_id": sender,
        "tracker": {
            "sender_id": sender,
            "slots": {"language": "id", "verified": True, **(slots or {})},
            "latest_message": {"text": "berapa tagihan saya", "intent": {"name": "ask_balance"}},
            "events": [],
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": {},
        "version": "3.6.21",
    }


@pytest.mark.parametrize("query", ["", "?token=wrong", "?token="])
def test_action_calls_without_the_token_are_refused(client, query):
    response = client.post(f"/actions/webhook{query}", json=action_call("action_ask_balance"))
    assert response.status_code == 401


def test_unknown_action_is_404(client):
    response = client.post("/actions/webhook?token=test-action-token", json=action_call("action_nope"))
    assert response.status_code == 404


def test_malformed_action_call_is_400(client):
    response = client.post("/actions/webhook?token=test-action-token", content=b"{oops")
    assert response.status_code == 400


def test_balance_is_not_disclosed_when_the_database_says_unverified(client):
    # Even if a tracker claims verified=true, the database decides.
    response = client.post("/actions/webhook?token=test-action-token", json=action_call("action_ask_balance"))
    assert response.status_code == 200
    texts = " ".join(r.get("text") or "" for r in response.json()["responses"])
    assert "verifikasi" in texts
    assert "Rp" not in texts
