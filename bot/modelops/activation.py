"""Which model the Rasa server serves: activation is ``PUT /model`` through the app's
:class:`RasaClient` (which holds new debtor turns while the model loads and lets the ones under way
finish first, see ``bot.dialogue.rasa_client``), each one recorded in ``model_activations``; the newest
record is the model ``tagih serve`` starts Rasa with, and a rollback goes back one step.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from anyio import to_thread
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import ModelActivation, TrainingJob
from bot.dialogue.model import NLU_DIR, current_model, latest_model
from bot.dialogue.rasa_client import ModelLoadError, RasaClient
from bot.errors import ConflictError, DialogueUnavailableError, NotFoundError
from bot.modelops.jobs import ACTIVE_STATUSES
from bot.modelops.store import MODEL_NAME, MODEL_SUFFIX, ModelStore, name_of
from bot.services.audit import audit

__all__ = ["Activation", "recorded_model", "startup_model"]

logger = logging.getLogger(__name__)


def recorded_model(session: Session, models_dir: Path) -> Path | None:
    """The file of the most recently activated model, if it still exists."""
    name = session.scalar(select(ModelActivation.model_name).order_by(ModelActivation.id.desc()).limit(1))
    if name is None or not MODEL_NAME.match(name):
        return None
    path = models_dir / f"{name}{MODEL_SUFFIX}"
    return path if path.exists() else None


def startup_model(session_factory: sessionmaker[Session], models_dir: Path, nlu_dir: Path = NLU_DIR) -> Path | None:
    """The model Rasa should start with: the one last activated, else the model for the current
    training data, else the newest file."""
    with session_factory() as session:
        recorded = recorded_model(session, models_dir)
    return recorded or current_model(models_dir, nlu_dir) or latest_model(models_dir)


class Activation:
    """Putting models of ``store`` in service in the Rasa server ``rasa``, one activation at a time."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        store: ModelStore,
        rasa: RasaClient | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = session_factory
        self._store = store
        self._rasa = rasa
        self._clock = clock
        self._lock = asyncio.Lock()

    def active_model_name(self) -> str | None:
        """The model in service: the one last activated, else what ``tagih serve`` would start."""
        path = startup_model(self._sessions, self._store.models_dir, self._store.nlu_dir)
        return name_of(path) if path is not None else None

    def record_startup_model(self) -> str | None:
        """With no activation recorded yet, record the model ``tagih serve`` starts Rasa with (called
        when the app starts, right after serve started Rasa), so that a model published later is not
        taken for the active one by the newest-file fallback. Returns the name recorded, if any."""
        with self._sessions.begin() as session:
            if session.scalar(select(ModelActivation.id).limit(1)) is not None:
                return None
            path = current_model(self._store.models_dir, self._store.nlu_dir) or latest_model(self._store.models_dir)
            if path is None:
                return None
            name = name_of(path)
            session.add(ModelActivation(model_name=name, activated_by="tagih serve", activated_at=self._clock()))
            return name

    def _activatable(self, name: str) -> Path:
        """The file of model ``name``, or why it cannot be put in service."""
        if not MODEL_NAME.match(name):
            raise NotFoundError(f"no model named {name!r}")
        path = self._store.model_file(name)
        if path.is_file():
            return path
        with self._sessions() as session:
            job = session.scalar(
                select(TrainingJob).where(TrainingJob.model_name == name).order_by(TrainingJob.id.desc()).limit(1)
            )
        if job is None or job.status == "succeeded":
            raise NotFoundError(f"no model named {name!r} in {self._store.models_dir}")
        if job.status in ACTIVE_STATUSES:
            raise ConflictError(f"model {name} is still being trained (job {job.id}: {job.status})")
        reason = f": {job.error}" if job.error else ""
        raise ConflictError(f"model {name} cannot be activated: training job {job.id} {job.status}{reason}")

    async def activate(self, name: str, *, by: str) -> dict[str, Any]:
        """Make the Rasa server serve model ``name`` and record it as the active model.

        Raises :class:`NotFoundError` for an unknown name; :class:`ConflictError` while another
        activation runs or when the model's training failed, was cancelled or still runs;
        :class:`ModelLoadError` when Rasa refuses the file and ``DialogueUnavailableError`` when
        Rasa is unreachable, and then the previous model keeps serving and nothing is recorded."""
        if self._rasa is None:
            raise ConflictError("no Rasa server is connected to this model manager")
        path = await to_thread.run_sync(self._activatable, name)
        if self._lock.locked():
            raise ConflictError("another model activation is in progress")
        async with self._lock:
            previous = await to_thread.run_sync(self.active_model_name)
            started = time.monotonic()
            try:
                serving = (await self._rasa.status()).get("model_file")
            except (DialogueUnavailableError, ValueError):  # unknown: the swap settles it
                serving = None
            swapped = serving != path.name
            if swapped:
                status = await self._rasa.swap_model(str(path.absolute()))
                if status.get("model_file") != path.name:
                    raise ModelLoadError(f"Rasa reports {status.get('model_file')!r} after loading {path.name}")
            seconds = round(time.monotonic() - started, 1)
            if swapped or name != previous:
                await to_thread.run_sync(self._record_activation, name, previous, by, seconds)
        logger.info("model %s activated by %s (previous %s, %.1fs)", name, by, previous, seconds)
        return {"model": name, "previous": previous, "swapped": swapped, "seconds": seconds}

    async def rollback(self, *, by: str) -> dict[str, Any]:
        """Activate the model that was active before the last activation."""

        def previous() -> str | None:
            with self._sessions() as session:
                last = session.scalar(select(ModelActivation).order_by(ModelActivation.id.desc()).limit(1))
                return last.previous_model if last is not None else None

        name = await to_thread.run_sync(previous)
        if not name:
            raise ConflictError("there is no earlier model to roll back to")
        return await self.activate(name, by=by)

    def _record_activation(self, name: str, previous: str | None, by: str, seconds: float) -> None:
        with self._sessions.begin() as session:
            session.add(
                ModelActivation(model_name=name, previous_model=previous, activated_by=by, activated_at=self._clock())
            )
            audit(
                session,
                actor=by,
                action="model.activated",
                entity_type="model",
                entity_id=name,
                details={"previous": previous, "seconds": seconds},
            )
