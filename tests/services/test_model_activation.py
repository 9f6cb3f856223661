"""Activation and rollback against a fake Rasa server: what is recorded, and what is refused."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import AuditLog, ModelActivation, TrainingJob
from bot.dialogue.rasa_client import ModelLoadError, RasaClient
from bot.errors import ConflictError, DialogueUnavailableError, NotFoundError
from bot.modelops.activation import startup_model
from bot.modelops.manager import ModelManager
from tests.fakes.rasa_http import FakeRasaServer
from tests.support import free_port

ADMIN = "admin@tagih.example"


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "models"
    directory.mkdir()
    # No activation recorded yet: the newest file is what serve would start, and what Rasa serves.
    for age, name in enumerate(("tagih-initial", "tagih-a", "tagih-b", "tagih-broken")):
        path = directory / f"{name}.tar.gz"
        path.write_bytes(name.encode())
        os.utime(path, (1_800_000_000 - age * 60, 1_800_000_000 - age * 60))
    return directory


@pytest.fixture
def rasa() -> Iterator[FakeRasaServer]:
    with FakeRasaServer("tagih-initial.tar.gz") as fake:
        yield fake


def manager_for(factory, models_dir: Path, rasa_url: str, tmp_path: Path) -> tuple[ModelManager, RasaClient]:
    client = RasaClient(rasa_url, timeout=5)
    manager = ModelManager(
        factory, rasa_bin=tmp_path / "no-rasa", models_dir=models_dir, rasa=client, nlu_dir=tmp_path / "no-nlu"
    )
    return manager, client


@pytest.fixture
async def models(factory, models_dir, rasa, tmp_path):
    manager, client = manager_for(factory, models_dir, rasa.base_url, tmp_path)
    yield manager
    manager.shutdown()
    await client.aclose()


def recorded(factory) -> list[tuple[str, str | None]]:
    with factory() as session:
        rows = session.scalars(select(ModelActivation).order_by(ModelActivation.id)).all()
        return [(row.model_name, row.previous_model) for row in rows]


async def test_activate_swaps_records_and_rolls_back(models, rasa, factory, models_dir):
    assert models.active_model_name() == "tagih-initial"
    result = await models.activate("tagih-a", by=ADMIN)
    assert result["model"] == "tagih-a" and result["previous"] == "tagih-initial" and result["swapped"]
    assert rasa.model_file == "tagih-a.tar.gz" and rasa.loaded == [str(models_dir / "tagih-a.tar.gz")]
    assert models.active_model_name() == "tagih-a"
    assert [m["name"] for m in models.models() if m["active"]] == ["tagih-a"]
    assert startup_model(factory, models_dir).name == "tagih-a.tar.gz", "a restarted serve starts with it"

    await models.activate("tagih-b", by=ADMIN)
    back = await models.rollback(by=ADMIN)
    assert back["model"] == "tagih-a" and rasa.model_file == "tagih-a.tar.gz"
    assert recorded(factory) == [("tagih-a", "tagih-initial"), ("tagih-b", "tagih-a"), ("tagih-a", "tagih-b")]
    with factory() as session:
        audits = session.scalars(select(AuditLog).where(AuditLog.action == "model.activated")).all()
    assert [a.entity_id for a in audits] == ["tagih-a", "tagih-b", "tagih-a"] and audits[0].actor == ADMIN


async def test_activating_the_model_already_served_records_nothing(models, rasa, factory):
    result = await models.activate("tagih-initial", by=ADMIN)
    assert result["swapped"] is False and rasa.loaded == [] and recorded(factory) == []


async def test_unknown_models_are_not_found(models, rasa):
    for name in ("tagih-missing", "../tagih-a", "tagih-a.tar.gz/..", ""):
        with pytest.raises(NotFoundError):
            await models.activate(name, by=ADMIN)
    assert rasa.loaded == []


@pytest.mark.parametrize(("status", "message"), [("failed", "training job"), ("training", "still being trained")])
async def test_a_model_whose_training_failed_or_runs_is_a_conflict(models, rasa, factory, status, message):
    now = datetime.now(timezone.utc)
    with factory.begin() as session:
        session.add(
            TrainingJob(
                label="x",
                source="repository",
                status=status,
                model_name="tagih-never",
                error="out of memory" if status == "failed" else None,
                runner="elsewhere:1:x",
                created_by=ADMIN,
                created_at=now,
                updated_at=now,
            )
        )
    with pytest.raises(ConflictError, match=message):
        await models.activate("tagih-never", by=ADMIN)
    assert rasa.loaded == []


async def test_one_activation_at_a_time(models, rasa, factory):
    rasa.load_seconds = 0.6
    first = asyncio.create_task(models.activate("tagih-a", by=ADMIN))
    await asyncio.sleep(0.2)
    with pytest.raises(ConflictError, match="in progress"):
        await models.activate("tagih-b", by=ADMIN)
    await first
    assert recorded(factory) == [("tagih-a", "tagih-initial")] and rasa.model_file == "tagih-a.tar.gz"


async def test_a_model_rasa_refuses_changes_nothing(models, rasa, factory):
    rasa.refuse.add("tagih-broken.tar.gz")
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        await models.activate("tagih-broken", by=ADMIN)
    assert rasa.model_file == "tagih-initial.tar.gz" and recorded(factory) == []
    assert models.active_model_name() == "tagih-initial"


async def test_rasa_unreachable_changes_nothing(factory, models_dir, tmp_path):
    manager, client = manager_for(factory, models_dir, f"http://127.0.0.1:{free_port()}", tmp_path)
    try:
        with pytest.raises(DialogueUnavailableError):
            await manager.activate("tagih-a", by=ADMIN)
    finally:
        manager.shutdown()
        await client.aclose()
    assert recorded(factory) == []


async def test_rollback_without_an_earlier_model_is_a_conflict(models, rasa):
    with pytest.raises(ConflictError, match="no earlier model"):
        await models.rollback(by=ADMIN)
