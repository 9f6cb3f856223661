"""The model manager the app and the tests hold: one object per app that wires the model store, the
job rows, the training worker and the activation together and offers their operations (start,
cancel and read training jobs, list models, activate and roll back, recover after a crash, stop)
under one lock shared by cancelling, publishing and stopping.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.dialogue.model import NLU_DIR, fingerprint, model_name
from bot.dialogue.rasa_client import RasaClient
from bot.dialogue.training import TrainingSourceError, stage_training_files
from bot.errors import ConflictError
from bot.modelops import views
from bot.modelops.activation import Activation
from bot.modelops.jobs import JobRows, merge_overrides, now, register_runner, release_runner
from bot.modelops.runs import Commands
from bot.modelops.store import ModelStore
from bot.modelops.training import Trainer
from bot.modelops.worker import TrainingWorker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from bot.settings import Settings

__all__ = ["ModelManager"]

logger = logging.getLogger(__name__)


class ModelManager:
    """Training jobs, the model files, and which model Rasa serves (see the ``bot.modelops`` package
    docstring)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        rasa_bin: Path,
        models_dir: Path,
        rasa: RasaClient | None = None,
        nlu_dir: Path = NLU_DIR,
        default_override: Mapping[str, Mapping[str, Any]] | None = None,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self._sessions = session_factory
        self._store = ModelStore(models_dir, nlu_dir)
        self._default_override = merge_overrides(default_override)
        self._rows = JobRows(session_factory, clock)
        self._lock = threading.Lock()  # the running job's process and cancel flag, and publishing
        self._activation = Activation(session_factory, self._store, rasa, clock)
        self._runner = register_runner()
        trainer = Trainer(
            self._rows,
            self._store,
            Commands(self._rows, rasa_bin, self._lock),
            runner=self._runner,
            lock=self._lock,
            active_model=self._activation.active_model_name,
        )
        self._worker = TrainingWorker(self._rows, self._store, trainer, runner=self._runner, lock=self._lock)

    @classmethod
    def from_settings(
        cls, settings: Settings, session_factory: sessionmaker[Session], rasa: RasaClient | None = None
    ) -> ModelManager:
        epochs = settings.train_epochs
        return cls(
            session_factory,
            rasa_bin=settings.rasa_bin,
            models_dir=settings.models_dir,
            rasa=rasa,
            default_override={"DIETClassifier": {"epochs": epochs}} if epochs else None,
        )

    @property
    def models_dir(self) -> Path:
        return self._store.models_dir

    @property
    def nlu_dir(self) -> Path:
        return self._store.nlu_dir

    def model_file(self, name: str) -> Path:
        return self._store.model_file(name)

    # -----------------------------------------------------------------------------------------------
    # Starting, cancelling and reading jobs

    def start_training(
        self,
        source_dir: Path,
        *,
        label: str,
        config_override: Mapping[str, Mapping[str, Any]] | None = None,
        source: str | None = None,
        created_by: str = "system",
    ) -> int:
        """Queue a training of the Rasa files in ``source_dir`` (config.yml, domain.yml, data/);
        returns the job id at once. The files are copied before this returns, so the caller may
        delete or change them. ``config_override`` (``{"DIETClassifier": {"epochs": 5}}``) is merged
        into config.yml. Raises :class:`TrainingSourceError` for an unusable directory or override."""
        if self._worker.closed:
            raise ConflictError("the model manager has stopped")
        label = " ".join(label.split())
        if not label:
            raise TrainingSourceError("a training job needs a label")
        override = merge_overrides(self._default_override, config_override)
        staging = self._store.new_staging()
        try:
            stage_training_files(Path(source_dir), staging / "source", config_override=override)
            name = model_name(fingerprint(staging / "source"))
            job_id = self._rows.insert(
                label=label,
                source=source or str(source_dir),
                model_name=name,
                config_override=override,
                runner=self._runner,
                created_by=created_by,
            )
            staging.rename(self._store.job_directory(job_id, self._runner))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._worker.submit(job_id)
        return job_id

    def cancel(self, job_id: int, *, by: str = "system") -> dict[str, Any]:
        """Cancel a queued or running job: its Rasa process group is terminated and no model is
        published. Cancelling a cancelled job is a no-op; a finished one is a conflict."""
        with self._lock:
            self._rows.cancel(job_id, by=by)
            self._worker.stop(job_id)
        return self.job(job_id)

    def job(self, job_id: int) -> dict[str, Any]:
        return views.job(self._sessions, job_id)

    def jobs(self, *, limit: int = 20) -> list[dict[str, Any]]:
        return views.jobs(self._sessions, limit=limit)

    # -----------------------------------------------------------------------------------------------
    # Models

    def active_model_name(self) -> str | None:
        """The model in service: the one last activated, else what ``tagih serve`` would start."""
        return self._activation.active_model_name()

    def record_startup_model(self) -> str | None:
        """With no activation recorded yet, record the model ``tagih serve`` starts Rasa with (see
        :meth:`Activation.record_startup_model`). Returns the name recorded, if any."""
        return self._activation.record_startup_model()

    def models(self) -> list[dict[str, Any]]:
        """Every model file, newest first, with the job that trained it (if one did)."""
        return views.models(self._sessions, self._store, self.active_model_name)

    async def activate(self, name: str, *, by: str) -> dict[str, Any]:
        """Make the Rasa server serve model ``name`` and record it as the active model (see
        :meth:`Activation.activate` for what it raises)."""
        return await self._activation.activate(name, by=by)

    async def rollback(self, *, by: str) -> dict[str, Any]:
        """Activate the model that was active before the last activation."""
        return await self._activation.rollback(by=by)

    def activations(self, *, limit: int = 20) -> list[dict[str, Any]]:
        return views.activations(self._sessions, limit=limit)

    # -----------------------------------------------------------------------------------------------
    # Start-up and shutdown

    def recover_interrupted(self) -> list[int]:
        """Mark failed the jobs whose process died mid-way (a crash, a kill, a power cut), and
        remove work directories nobody runs any more. Called when the app starts."""
        failed, finished = self._rows.recover()
        self._store.remove_work_directories(finished)
        if failed:
            logger.warning("training jobs %s were interrupted by a stop of the app; marked failed", failed)
        return failed

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop the worker: the running job is stopped and marked failed, queued ones too."""
        self._worker.shutdown(timeout)
        release_runner(self._runner)
