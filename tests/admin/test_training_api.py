"""The training-data routes: admins only, CSRF, 404/422 refusals that store nothing, each change a
version with a readable diff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.web.app import create_app
from tests.admin.conftest import count
from tests.console_support import logged_in_clients, make_user

ADMIN, AGENT = "admin@tagih.example", "agent@tagih.example"
BASE = "/admin/api/training"
ROUTES = [
    ("GET", f"{BASE}/intents", None),
    ("GET", f"{BASE}/intents/greet", None),
    ("GET", f"{BASE}/routes", None),
    ("POST", f"{BASE}/examples", {"intent": "greet", "examples": ["hai kakak tagih"]}),
    ("PUT", f"{BASE}/examples", {"intent": "greet", "text": "halo", "new_text": "halo halo"}),
    ("DELETE", f"{BASE}/examples?intent=greet&text=halo", None),
    ("POST", f"{BASE}/examples/move", {"intent": "greet", "texts": ["halo"], "to": "goodbye"}),
    ("PUT", f"{BASE}/routes/greet", {"target": "action_request_human"}),
]


@pytest.fixture
def clients(settings, factory) -> Iterator[object]:
    make_user(factory, ADMIN, "admin")
    make_user(factory, AGENT, "agent")
    with logged_in_clients(create_app(settings)) as open_client:
        yield open_client


def test_no_session_is_401_agents_are_403_and_changes_need_the_csrf_token(clients, factory):
    anonymous, _ = clients()
    agent, agent_token = clients(AGENT)
    admin, _ = clients(ADMIN)
    for method, path, body in ROUTES:
        assert anonymous.request(method, path, json=body).status_code == 401, path
        assert agent.request(method, path, json=body, headers={"X-CSRF-Token": agent_token}).status_code == 403, path
        if method != "GET":
            assert admin.request(method, path, json=body).status_code == 403, path
            wrong = admin.request(method, path, json=body, headers={"X-CSRF-Token": "not-the-token"})
            assert wrong.status_code == 403, path
    assert count(factory) == 1, "the app seeded version 1 and nothing else happened"


def test_admin_adds_edits_moves_and_removes_examples(clients, factory):
    admin, token = clients(ADMIN)
    headers = {"X-CSRF-Token": token}
    listed = admin.get(f"{BASE}/intents").json()
    assert listed["version"] == 1
    greet = next(i for i in listed["intents"] if i["name"] == "greet")
    assert {"text": "halo", "file": "nlu/data/nlu/greet.yml"} in greet["examples"]

    added = admin.post(f"{BASE}/examples", json={"intent": "greet", "examples": ["hai kakak tagih"]}, headers=headers)
    assert added.status_code == 201 and added.json() == {"number": 2, "summary": "1 example added to greet"}
    assert admin.get(f"{BASE}/intents/greet").json()["examples"][-1] == {
        "text": "hai kakak tagih",
        "file": "nlu/data/nlu/greet.yml",
    }

    edit = {"intent": "greet", "text": "hai kakak tagih", "new_text": "hai kakak penagih"}
    assert admin.put(f"{BASE}/examples", json=edit, headers=headers).json()["number"] == 3
    diff = admin.get("/admin/api/flows/diff?old=2&new=3").text
    assert "-    - hai kakak tagih\n+    - hai kakak penagih\n" in diff and diff.count("\n@@ ") == 1, "one hunk"

    move = {"intent": "greet", "texts": ["hai kakak penagih", "halo"], "to": "request_human"}
    moved = admin.post(f"{BASE}/examples/move", json=move, headers=headers)
    assert moved.status_code == 200 and moved.json()["summary"] == "2 examples moved from greet to request_human"
    greet_texts = [e["text"] for e in admin.get(f"{BASE}/intents/greet").json()["examples"]]
    human = admin.get(f"{BASE}/intents/request_human").json()
    assert "halo" not in greet_texts and "hai kakak penagih" not in greet_texts
    assert [e["text"] for e in human["examples"]][-2:] == ["hai kakak penagih", "halo"] and human["version"] == 4

    removed = admin.delete(f"{BASE}/examples", params={"intent": "request_human", "text": "halo"}, headers=headers)
    assert removed.status_code == 200 and removed.json()["summary"] == "example removed from request_human"
    assert "halo" not in [e["text"] for e in admin.get(f"{BASE}/intents/request_human").json()["examples"]]
    history = admin.get("/admin/api/flows/versions").json()
    assert [v["number"] for v in history] == [5, 4, 3, 2, 1] and {v["created_by"] for v in history[:4]} == {ADMIN}


def test_admin_routes_an_intent_to_the_handoff(clients, factory):
    admin, token = clients(ADMIN)
    table = admin.get(f"{BASE}/routes").json()
    rows = {r["intent"]: r for r in table["routes"]}
    assert table["handoff"] == "action_request_human" and rows["dispute_debt"]["target"] == "dispute_form"
    saved = admin.put(
        f"{BASE}/routes/dispute_debt", json={"target": "action_request_human"}, headers={"X-CSRF-Token": token}
    )
    assert saved.status_code == 200 and saved.json() == {
        "number": 2,
        "summary": "dispute_debt now goes to action_request_human",
    }
    rows = {r["intent"]: r for r in admin.get(f"{BASE}/routes").json()["routes"]}
    assert rows["dispute_debt"]["target"] == "action_request_human" and rows["dispute_debt"]["handoff"]
    rules = admin.get("/admin/api/flows/versions/2/file?path=nlu/data/rules.yml").text
    assert "  - intent: dispute_debt\n  - action: action_request_human\n" in rules


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "reason"),
    [
        ("GET", f"{BASE}/intents/teleport", None, 404, "unknown intent"),
        ("POST", f"{BASE}/examples", {"intent": "teleport", "examples": ["beam me up"]}, 404, "unknown intent"),
        ("POST", f"{BASE}/examples", {"intent": "greet", "examples": []}, 422, "at least 1"),
        ("POST", f"{BASE}/examples", {"intent": "greet", "examples": ["  "]}, 422, "an example is empty"),
        ("POST", f"{BASE}/examples", {"intent": "greet", "examples": ["x" * 301]}, 422, "longer than 300"),
        ("POST", f"{BASE}/examples", {"intent": "goodbye", "examples": ["HALO"]}, 422, "already exists"),
        ("PUT", f"{BASE}/examples", {"intent": "greet", "text": "nope", "new_text": "hai"}, 404, "no example"),
        ("PUT", f"{BASE}/examples", {"intent": "greet", "text": "halo", "new_text": "hai"}, 422, "already exists"),
        ("PUT", f"{BASE}/examples", {"intent": "greet", "text": "halo"}, 422, "new_text"),
        ("DELETE", f"{BASE}/examples?intent=greet&text=nope", None, 404, "no example"),
        ("DELETE", f"{BASE}/examples?intent=greet", None, 422, "text"),
        ("POST", f"{BASE}/examples/move", {"intent": "greet", "texts": ["halo"], "to": "nope"}, 404, "unknown intent"),
        ("POST", f"{BASE}/examples/move", {"intent": "greet", "texts": ["halo"], "to": "greet"}, 422, "already in"),
        ("POST", f"{BASE}/examples/move", {"intent": "greet", "texts": [], "to": "deny"}, 422, "at least 1"),
        ("PUT", f"{BASE}/routes/teleport", {"target": "utter_greet"}, 404, "no rule routes"),
        ("PUT", f"{BASE}/routes/stop_contact", {"target": "utter_greet"}, 422, "always honoured"),
        ("PUT", f"{BASE}/routes/greet", {"target": "action_stop_contact"}, 422, "is not a target"),
        ("PUT", f"{BASE}/routes/greet", {"target": "utter_greet"}, 422, "nothing changed"),
        ("PUT", f"{BASE}/routes/greet", {}, 422, "target"),
    ],
)
def test_malformed_edits_are_refused_with_a_reason_and_change_nothing(
    clients, factory, method, path, body, status, reason
):
    admin, token = clients(ADMIN)
    response = admin.request(method, path, json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == status and reason in response.text, response.text
    assert count(factory) == 1


def test_the_admin_page_has_the_examples_and_routing_panel(clients):
    admin, _ = clients(ADMIN)
    page = admin.get("/admin").text
    for anchor in ('id="panel-examples"', 'id="intent-select"', 'id="example-list"', 'id="routes-table"'):
        assert anchor in page, anchor
    assert '"/admin/api/flows/examples"' not in page
