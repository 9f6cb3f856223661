"""The web chat webhook's input contract: bad input is refused with a reason and stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.db.models import Conversation, Message
from bot.db.session import make_engine, make_session_factory, migrate
from bot.web.app import create_app
from tests.support import fixed_clock, free_port, make_settings


@pytest.fixture
def client(tmp_path: Path):
    # Rasa points at a closed port: none of these requests may get that far, except the 503 test.
    settings = make_settings(tmp_path, TAGIH_RASA_URL=f"http://127.0.0.1:{free_port()}", TAGIH_RASA_TIMEOUT=2)
    migrate(settings.database_url)
    with TestClient(create_app(settings, clock=fixed_clock)) as test_client:
        test_client.session_factory = make_session_factory(make_engine(settings.database_url))  # type: ignore[attr-defined]
        yield test_client


def stored_counts(client: TestClient) -> tuple[int, int]:
    with client.session_factory() as session:  # type: ignore[attr-defined]
        return (
            session.scalar(select(func.count(Conversation.id))),
            session.scalar(select(func.count(Message.id))),
        )


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'["sender", "message"]', 400, "JSON object"),
        (b'{"message": "halo"}', 422, "'sender' is required"),
        (b'{"sender": "abc"}', 422, "'message' is required"),
        (b'{"sender": "abc", "message": ""}', 422, "must not be empty"),
        (b'{"sender": "abc", "message": "   \\n\\t "}', 422, "must not be empty"),
        (b'{"sender": "   ", "message": "halo"}', 422, "'sender' must not be empty"),
        (b'{"sender": 12, "message": "halo"}', 422, "'sender' must be a string"),
        (b'{"sender": "abc", "message": ["halo"]}', 422, "'message' must be a string"),
        (b'{"sender": "page-abc", "message": "halo"}', 422, "belong to the web chat page"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_nothing_stored(client, body, status, reason):
    response = client.post("/webhooks/rest/webhook", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert reason in response.json()["detail"]
    assert stored_counts(client) == (0, 0)


def test_message_over_4000_characters_is_refused(client):
    response = client.post("/webhooks/rest/webhook", json={"sender": "abc", "message": "a" * 4001})
    assert response.status_code == 413
    assert "4000" in response.json()["detail"]
    assert stored_counts(client) == (0, 0)


def test_message_of_exactly_4000_characters_is_accepted_and_kept_when_rasa_is_down(client):
    response = client.post("/webhooks/rest/webhook", json={"sender": "abc", "message": "a" * 4000})
    assert response.status_code == 503
    assert "saved" in response.json()["detail"]
    # The debtor's message is not lost even though no reply could be produced.
    assert stored_counts(client) == (1, 1)


def test_chat_page_and_api_docs_are_served(client):
    page = client.get("/chat")
    assert page.status_code == 200
    assert '<script src="/static/chat.js">' in page.text and "<h1>Chat dengan Tagih Finance</h1>" in page.text
    schema = client.get("/openapi.json").json()
    assert {"/webhooks/rest/webhook", "/chat/api/messages", "/chat/api/events"} <= set(schema["paths"])
