"""The model management routes: admins only, CSRF, clear refusals; train, follow, activate, roll back
(with a stand-in rasa command line and a fake Rasa server)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.db.session import make_engine, make_session_factory, migrate
from bot.web.app import create_app
from tests.console_support import login, make_user
from tests.fakes import rasa_cli
from tests.fakes.rasa_http import FakeRasaServer
from tests.support import make_settings

ADMIN, AGENT = "admin@tagih.example", "agent@tagih.example"
API = "/admin/api/models"
ROUTES = [
    ("GET", API, None),
    ("GET", f"{API}/jobs", None),
    ("GET", f"{API}/jobs/1", None),
    ("POST", f"{API}/train", {"source": "repository"}),
    ("POST", f"{API}/jobs/1/cancel", None),
    ("POST", f"{API}/tagih-x/activate", None),
    ("POST", f"{API}/rollback", None),
]


@pytest.fixture
def rasa() -> Iterator[FakeRasaServer]:
    with FakeRasaServer("tagih-initial.tar.gz") as fake:
        yield fake


@pytest.fixture
def app(tmp_path: Path, rasa: FakeRasaServer, monkeypatch: pytest.MonkeyPatch):
    models = tmp_path / "models"
    models.mkdir()
    (models / "tagih-initial.tar.gz").write_bytes(b"serving")
    settings = make_settings(
        tmp_path,
        TAGIH_RASA_URL=rasa.base_url,
        TAGIH_RASA_BIN=rasa_cli.install(tmp_path),
        TAGIH_MODELS_DIR=models,
        TAGIH_TRAIN_EPOCHS=5,
    )
    migrate(settings.database_url)
    factory = make_session_factory(make_engine(settings.database_url))
    make_user(factory, ADMIN, "admin")
    make_user(factory, AGENT, "agent")
    return create_app(settings)


@pytest.fixture
def admin(app) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app, follow_redirects=False) as client:
        yield client, login(client, ADMIN)


def call(client: TestClient, method: str, url: str, body: Any = None, csrf: str | None = None):
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return client.request(method, url, json=body, headers=headers)


def finished(client: TestClient, job_id: int, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job = client.get(f"{API}/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


@pytest.mark.parametrize(("method", "url", "body"), ROUTES)
def test_only_admins_may_call_and_changes_need_the_csrf_token(app, method, url, body):
    with TestClient(app, follow_redirects=False) as anonymous:
        assert call(anonymous, method, url, body).status_code == 401
    with TestClient(app, follow_redirects=False) as agent:
        csrf = login(agent, AGENT)
        assert call(agent, method, url, body, csrf).status_code == 403
    with TestClient(app, follow_redirects=False) as admin:
        csrf = login(admin, ADMIN)
        if method == "POST":
            response = call(admin, method, url, body)
            assert response.status_code == 403 and "CSRF" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"source": "repository", "version": 1},
        {"source": "elsewhere"},
        {"version": "1"},
        {"version": 0},
        {"version": True},
        {"source": "repository", "label": ""},
        {"source": "repository", "epochs": 1},
    ],
)
def test_bad_training_requests_are_422_and_start_nothing(admin, body):
    client, csrf = admin
    response = call(client, "POST", f"{API}/train", body, csrf)
    assert response.status_code == 422, response.text
    assert client.get(f"{API}/jobs").json() == []


def test_unknown_jobs_and_models_are_404(admin):
    client, csrf = admin
    assert client.get(f"{API}/jobs/99").status_code == 404
    assert call(client, "POST", f"{API}/jobs/99/cancel", None, csrf).status_code == 404
    response = call(client, "POST", f"{API}/tagih-nothing/activate", None, csrf)
    assert response.status_code == 404 and "tagih-nothing" in response.json()["detail"]
    assert call(client, "POST", f"{API}/train", {"version": 999}, csrf).status_code == 404


def test_train_the_repository_then_activate_and_roll_back(admin, rasa):
    client, csrf = admin
    response = call(client, "POST", f"{API}/train", {"source": "repository", "label": "nlu as it is"}, csrf)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["Location"] == f"{API}/jobs/{job['id']}"
    assert job["status"] in ("queued", "validating") and job["created_by"] == ADMIN
    assert job["config_override"] == {"DIETClassifier": {"epochs": 5}}, "TAGIH_TRAIN_EPOCHS"
    job = finished(client, job["id"])
    assert job["status"] == "succeeded", job
    assert job["evaluation"]["candidate"]["macro_f1"] == 1.0
    assert job["evaluation"]["active"]["model"] == "tagih-initial"

    listing = client.get(API).json()
    assert listing["active"] == "tagih-initial"
    new = next(m for m in listing["models"] if m["name"] == job["model_name"])
    assert new["label"] == "nlu as it is" and new["evaluation"]["accuracy"] == 1.0 and not new["active"]
    assert listing["jobs"][0]["id"] == job["id"]

    response = call(client, "POST", f"{API}/{job['model_name']}/activate", None, csrf)
    assert response.status_code == 200, response.text
    assert response.json()["previous"] == "tagih-initial" and rasa.model_file == f"{job['model_name']}.tar.gz"
    assert client.get(API).json()["active"] == job["model_name"]
    assert call(client, "POST", f"{API}/jobs/{job['id']}/cancel", None, csrf).status_code == 409

    response = call(client, "POST", f"{API}/rollback", None, csrf)
    assert response.status_code == 200 and response.json()["model"] == "tagih-initial"
    assert rasa.model_file == "tagih-initial.tar.gz"
    listing = client.get(API).json()
    assert listing["active"] == "tagih-initial"
    history = [(a["model"], a["activated_by"]) for a in reversed(listing["activations"])]
    assert history == [("tagih-initial", "tagih serve"), (job["model_name"], ADMIN), ("tagih-initial", ADMIN)]


def test_train_a_flow_version(admin):
    client, csrf = admin
    response = call(client, "POST", f"{API}/train", {"version": 1}, csrf)
    assert response.status_code == 202, response.text
    job = finished(client, response.json()["id"])
    assert job["status"] == "succeeded" and job["label"] == "flow version 1" and job["source"] == "flow version 1"


def test_a_failed_model_cannot_be_activated_and_a_refused_one_keeps_the_old(admin, rasa, monkeypatch):
    client, csrf = admin
    monkeypatch.setenv("FAKE_RASA_TRAIN_EXIT", "1")
    job = finished(client, call(client, "POST", f"{API}/train", {"source": "repository"}, csrf).json()["id"])
    assert job["status"] == "failed"
    response = call(client, "POST", f"{API}/{job['model_name']}/activate", None, csrf)
    assert response.status_code == 409 and "failed" in response.json()["detail"]

    monkeypatch.delenv("FAKE_RASA_TRAIN_EXIT")
    job = finished(client, call(client, "POST", f"{API}/train", {"source": "repository"}, csrf).json()["id"])
    rasa.refuse.add(f"{job['model_name']}.tar.gz")
    response = call(client, "POST", f"{API}/{job['model_name']}/activate", None, csrf)
    assert response.status_code == 502 and "previous model is still serving" in response.json()["detail"]
    assert client.get(API).json()["active"] == "tagih-initial" and rasa.model_file == "tagih-initial.tar.gz"


def test_a_job_can_be_cancelled_through_the_api(admin, tmp_path, monkeypatch):
    client, csrf = admin
    monkeypatch.setenv("FAKE_RASA_HOLD", str(tmp_path / "never"))
    job = call(client, "POST", f"{API}/train", {"source": "repository"}, csrf).json()
    deadline = time.monotonic() + 20
    while client.get(f"{API}/jobs/{job['id']}").json()["status"] != "training":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    response = call(client, "POST", f"{API}/jobs/{job['id']}/cancel", None, csrf)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert response.json()["stage"] == f"cancelled by {ADMIN}"
    assert [m["name"] for m in client.get(API).json()["models"]] == ["tagih-initial"]
