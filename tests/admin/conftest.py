"""Admin test fixtures: a migrated database of one's own (``settings``, ``factory``), and helpers for
the tests that train real models: a small copy of nlu/ (quick to train) and a second app with its own
database and models directory that shares the live stack's Rasa server.

The live Rasa server is shared by the whole session, so :func:`models_app` puts back the model it
served before, whatever the test did.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import func, select

from bot.db.models import FlowVersion
from bot.db.session import make_engine, make_session_factory, migrate
from bot.dialogue.model import NLU_DIR, current_model
from bot.services import flows
from bot.settings import Settings, get_settings
from bot.web.app import create_app
from tests.console_support import make_user
from tests.support import TEST_RASA_TOKEN, AppServer, fixed_clock, free_port, make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def factory(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The migrated database of ``settings``, also named by TAGIH_DATABASE_URL for CLI commands."""
    monkeypatch.setenv("TAGIH_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()
    get_settings.cache_clear()


EXAMPLES_PER_INTENT = 10
NLU_PREFIX = "nlu/data/nlu/"


class _BlockDumper(yaml.SafeDumper):
    pass


_BlockDumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None),
)


def do(factory: Any, work: Any) -> Any:
    """Run ``work(session)`` in one committed transaction and return what it returns."""
    with factory.begin() as session:
        return work(session)


def count(factory: Any) -> int:
    """How many flow versions the database holds."""
    with factory() as session:
        return session.scalar(select(func.count(FlowVersion.id)))


def shrink_nlu(text: str) -> str:
    """An NLU data file with only the first few examples of each intent."""
    document = yaml.safe_load(text)
    for item in document.get("nlu") or []:
        if "intent" in item:
            lines = [line for line in item["examples"].splitlines() if line.strip()]
            item["examples"] = "\n".join(lines[:EXAMPLES_PER_INTENT]) + "\n"
    return yaml.dump(document, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False)


def small_copy(target: Path) -> Path:
    """nlu/ with the first few examples of each intent: the same intents, rules and pipeline."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.yml", "domain.yml"):
        shutil.copyfile(NLU_DIR / name, target / name)
    shutil.copytree(NLU_DIR / "data", target / "data")
    for path in (target / "data" / "nlu").glob("*.yml"):
        path.write_text(shrink_nlu(path.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def small_flow_documents() -> dict[str, str]:
    """The repository's flow set with the NLU examples cut down as in :func:`small_copy`."""
    documents = flows.repository_documents()
    return {
        path: shrink_nlu(text) if path.startswith(NLU_PREFIX) and path.endswith(".yml") else text
        for path, text in documents.items()
    }


@dataclass
class ModelsApp:
    app: FastAPI
    url: str
    rasa_url: str
    original: Path  # the model file the live Rasa served before

    def serving(self) -> str:
        return httpx.get(f"{self.rasa_url}/status", params={"token": TEST_RASA_TOKEN}, timeout=120).json()["model_file"]


@contextmanager
def models_app(
    live_stack: Any, tmp: Path, admin: str, *, flow_documents: Mapping[str, str] | None = None
) -> Iterator[ModelsApp]:
    """A second app (own database with ``admin``, own models directory holding the live model,
    5-epoch trainings) on the live stack's Rasa server; with ``flow_documents``, they are saved as
    the newest flow version, so that the admin page trains them. On exit the live Rasa serves its
    original model again."""
    override = os.environ.get("TAGIH_TEST_MODEL")
    original = Path(override) if override else current_model(live_stack.settings.models_dir)
    assert original is not None
    models_dir = tmp / "models"
    models_dir.mkdir()
    (models_dir / original.name).symlink_to(original.resolve())  # the model the live Rasa serves
    port = free_port()
    settings = live_stack.settings.model_copy(
        update={
            "database_url": f"sqlite:///{tmp / 'models.db'}",
            "models_dir": models_dir,
            "train_epochs": 5,
            "port": port,
        }
    )
    migrate(settings.database_url)
    factory = make_session_factory(make_engine(settings.database_url))
    make_user(factory, admin, "admin")
    if flow_documents is not None:
        with factory.begin() as session:
            flows.save(session, flow_documents, by=admin, summary="fewer examples per intent, for a quick training")
    app = create_app(settings, clock=fixed_clock, channels={})
    try:
        with AppServer(app, port) as server:
            yield ModelsApp(app, server.url, live_stack.rasa_url, original)
    finally:
        # Whatever happened, the live Rasa goes back to the model the other tests expect.
        if (
            httpx.get(f"{live_stack.rasa_url}/status", params={"token": TEST_RASA_TOKEN}, timeout=120).json()[
                "model_file"
            ]
            != original.name
        ):
            httpx.put(
                f"{live_stack.rasa_url}/model",
                params={"token": TEST_RASA_TOKEN},
                json={"model_file": str(original)},
                timeout=600,
            )
