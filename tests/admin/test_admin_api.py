"""The admin editor's routes: admins only, CSRF, clear refusals that change nothing; the NLG endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.web.app import create_app
from tests.admin.conftest import count
from tests.console_support import logged_in_clients, make_user

ADMIN, AGENT = "admin@tagih.example", "agent@tagih.example"
ROUTES = [
    ("GET", "/admin/api/flows/versions", None),
    ("GET", "/admin/api/flows/versions/1", None),
    ("GET", "/admin/api/flows/versions/1/file?path=nlu/domain.yml", None),
    ("GET", "/admin/api/flows/diff?old=1&new=1", None),
    ("GET", "/admin/api/flows/responses", None),
    ("PUT", "/admin/api/flows/responses/utter_greet", {"id": "Hai", "en": "Hi"}),
    ("PUT", "/admin/api/flows/files", {"path": "nlu/data/rules.yml", "text": "rules: []\n"}),
    ("POST", "/admin/api/training/examples", {"intent": "greet", "examples": ["hai kak"]}),
    ("POST", "/admin/api/flows/versions/1/restore", None),
]


@pytest.fixture
def app(settings, factory):
    make_user(factory, ADMIN, "admin")
    make_user(factory, AGENT, "agent")
    return create_app(settings)


@pytest.fixture
def clients(app) -> Iterator[object]:
    with logged_in_clients(app) as open_client:
        yield open_client


def test_no_session_is_401_and_agents_are_403(clients, factory):
    anonymous, _ = clients()
    agent, token = clients(AGENT)
    for method, path, body in ROUTES:
        assert anonymous.request(method, path, json=body).status_code == 401, path
        assert agent.request(method, path, json=body, headers={"X-CSRF-Token": token}).status_code == 403, path
    assert anonymous.get("/admin").status_code == 303
    assert agent.get("/admin").status_code == 403
    assert count(factory) == 1, "the app seeded version 1 and nothing else happened"


def test_changes_need_the_csrf_token(clients, factory):
    admin, token = clients(ADMIN)
    for method, path, body in ROUTES:
        if method != "GET":
            assert admin.request(method, path, json=body).status_code == 403, path
    assert count(factory) == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "reason"),
    [
        ("PUT", "/admin/api/flows/responses/utter_greet", {"id": "", "en": "Hi"}, 422, "id text is empty"),
        ("PUT", "/admin/api/flows/responses/utter_nope", {"id": "Hai", "en": "Hi"}, 404, "no response"),
        ("PUT", "/admin/api/flows/files", {"path": "nlu/data/rules.yml", "text": "rules: ["}, 422, "invalid YAML"),
        ("PUT", "/admin/api/flows/files", {"path": "../etc/passwd.yml", "text": "a: 1"}, 422, "'..' segment"),
        (
            "POST",
            "/admin/api/training/examples",
            {"intent": "teleport", "examples": ["beam me up"]},
            404,
            "unknown intent",
        ),
        ("POST", "/admin/api/training/examples", {"intent": "greet", "examples": []}, 422, "at least 1"),
        ("POST", "/admin/api/flows/versions/9/restore", None, 404, "no flow version 9"),
    ],
)
def test_malformed_edits_are_refused_with_a_reason(clients, factory, method, path, body, status, reason):
    admin, token = clients(ADMIN)
    response = admin.request(method, path, json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == status and reason in response.text
    assert count(factory) == 1


def test_admin_edits_a_response_and_sees_the_diff(clients, factory):
    admin, token = clients(ADMIN)
    response = admin.put(
        "/admin/api/flows/responses/utter_goodbye",
        json={"id": "Sampai jumpa, {company_name}.", "en": "Goodbye from {company_name}."},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200 and response.json()["number"] == 2
    listed = {r["name"]: r for r in admin.get("/admin/api/flows/responses").json()}
    assert listed["utter_goodbye"]["text"] == {
        "id": "Sampai jumpa, {company_name}.",
        "en": "Goodbye from {company_name}.",
    }
    diff = admin.get("/admin/api/flows/diff?old=1&new=2").text
    assert any(line.startswith("+") and "Sampai jumpa, {company_name}." in line for line in diff.splitlines())
    history = admin.get("/admin/api/flows/versions").json()
    assert history[0]["created_by"] == ADMIN and history[0]["summary"] == "response utter_goodbye edited"
    page = admin.get("/admin")
    assert page.status_code == 200 and "Responses" in page.text


def test_nlg_renders_from_the_newest_version_for_rasa_only(app, clients):
    admin, token = clients(ADMIN)
    admin.put(
        "/admin/api/flows/responses/utter_goodbye",
        json={"id": "Sampai jumpa, {debtor_name}!", "en": "Bye, {debtor_name}!"},
        headers={"X-CSRF-Token": token},
    )
    call = {
        "response": "utter_goodbye",
        "arguments": {},
        "tracker": {"slots": {"language": "en", "debtor_name": "Rina"}},
    }
    rendered = admin.post("/actions/nlg?token=test-action-token", json=call)
    assert rendered.status_code == 200 and rendered.json()["text"] == "Bye, Rina!"
    assert admin.post("/actions/nlg?token=wrong", json=call).status_code == 401
    assert admin.post("/actions/nlg?token=test-action-token", json={**call, "response": "utter_x"}).status_code == 404
    assert admin.post("/actions/nlg?token=test-action-token", content=b"{").status_code == 400
