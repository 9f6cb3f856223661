"""Model management for the admin editor: train Rasa models in the background, evaluate them on
held-out data, put one in service in the running Rasa server, roll back.

Training. One job at a time runs in a worker thread of the app: ``rasa data validate``, then
``rasa train`` (in the Rasa environment, in its own process group so a cancel stops all of it), then
the evaluation below. The row in ``training_jobs`` is the job's whole state, so the browser polls it
and a restarted app still shows the outcome. A model is named after the fingerprint of its training
inputs (config override included), as ``tagih train`` names it: the same inputs give the same name,
and a job for inputs already trained reuses that model instead of training it again.

Nothing half-written. A job works in ``<models_dir>/.jobs/<id>/`` and moves its model into
``models_dir`` (a rename on the same file system) only after training and evaluation succeeded and
unless it was cancelled, with a copy of its training files in ``<models_dir>/.sources/<name>/``.
A failed, cancelled or interrupted job leaves nothing behind, and the model being served is never
touched by training.

Evaluation. A model cannot be scored on messages it was trained on, so the candidate is measured
by the same configuration trained again on 80% of its NLU examples (``rasa data split nlu``, fixed
seed) and tested on the other 20%. The model put in service is still the one trained on all the
data. The active model is tested on the same 20% for comparison; as it has usually seen many of
those messages in training, the evaluation says how many, and scores the ones it has not seen
separately when there are any.

Activation. ``PUT /model`` on the Rasa server, through the app's :class:`RasaClient`, which holds
new debtor turns while the model loads and lets the ones under way finish first (see
``bot.dialogue.rasa_client``). Each activation is recorded in ``model_activations``; the newest is
the model ``tagih serve`` starts Rasa with, and :meth:`ModelManager.rollback` goes back one step.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from anyio import to_thread
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import ModelActivation, TrainingJob
from bot.dialogue.intent_metrics import Prediction, read_predictions, score, seen
from bot.dialogue.model import NLU_DIR, current_model, fingerprint, latest_model, model_name
from bot.dialogue.rasa_client import ModelLoadError, RasaClient
from bot.dialogue.responses import expected_validation_warnings
from bot.dialogue.training import (
    BarFilter,
    TrainingProgress,
    TrainingSourceError,
    clean_line,
    config_components,
    nlu_examples,
    run_rasa,
    stage_training_files,
    terminate_group,
)
from bot.errors import ConflictError, DialogueUnavailableError, NotFoundError
from bot.services.audit import audit

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = [
    "ACTIVE_STATUSES",
    "FINAL_STATUSES",
    "ModelLoadError",
    "ModelManager",
    "TrainingSourceError",
    "evaluation_summary",
    "job_directory_name",
    "recorded_model",
    "startup_model",
]

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = ("queued", "validating", "training", "evaluating")
FINAL_STATUSES = ("succeeded", "failed", "cancelled")
SPLIT_SEED = 42
TRAINING_FRACTION = 0.8
LOG_TAIL_LINES = 80
LOG_TAIL_CHARS = 8000
VALIDATION_CHARS = 20000
SAVE_INTERVAL_SECONDS = 1.0
STAGING_MAX_AGE_SECONDS = 3600
MODEL_SUFFIX = ".tar.gz"
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_ERROR_LINE = re.compile(r"Exception|Error|ERROR|error:")

# Share of the whole job's progress bar each step takes (start, end).
VALIDATE_BAND = (0, 5)
TRAIN_BAND = (5, 55)
HELD_OUT_BAND = (55, 85)
TEST_CANDIDATE_BAND = (85, 92)
TEST_ACTIVE_BAND = (92, 99)

# Runners (host:pid:token) of the managers alive in this process: their jobs are not orphans.
_LIVE_RUNNERS: set[str] = set()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _orphaned(runner: str | None) -> bool:
    """Whether a job's runner is gone. Only runners on this host can be checked; a job another host
    runs is left alone (models_dir is local, so training belongs to one host anyway)."""
    if not runner:
        return True
    host, _, rest = runner.partition(":")
    if host != socket.gethostname():
        return False
    if runner in _LIVE_RUNNERS:
        return False
    try:
        pid = int(rest.partition(":")[0])
    except ValueError:
        return True
    return pid == os.getpid() or not _pid_alive(pid)


def job_directory_name(job_id: int, runner: str | None) -> str:
    """The work directory of a job under ``<models_dir>/.jobs``: its id and its runner's token."""
    return f"{job_id}-{(runner or '').rpartition(':')[2]}"


def _changed(session: Session, statement: Any) -> int:
    """Rows an UPDATE changed."""
    return cast("CursorResult[Any]", session.execute(statement)).rowcount or 0


def _merge_overrides(*overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]] | None:
    merged: dict[str, dict[str, Any]] = {}
    for override in overrides:
        for component, values in (override or {}).items():
            if not isinstance(values, Mapping):
                raise TrainingSourceError(f"config override for {component} must be a mapping of settings")
            merged.setdefault(str(component), {}).update(values)
    return merged or None


def recorded_model(session: Session, models_dir: Path) -> Path | None:
    """The file of the most recently activated model, if it still exists."""
    name = session.scalar(select(ModelActivation.model_name).order_by(ModelActivation.id.desc()).limit(1))
    if name is None or not _MODEL_NAME.match(name):
        return None
    path = models_dir / f"{name}{MODEL_SUFFIX}"
    return path if path.exists() else None


def startup_model(session_factory: sessionmaker[Session], models_dir: Path, nlu_dir: Path = NLU_DIR) -> Path | None:
    """The model Rasa should start with: the one last activated, else the model for the current
    training data, else the newest file."""
    with session_factory() as session:
        recorded = recorded_model(session, models_dir)
    return recorded or current_model(models_dir, nlu_dir) or latest_model(models_dir)


class _Cancelled(Exception):
    """The job was cancelled (or stopped with the app); its row already says so."""


class _Failed(Exception):
    """The job failed for a reason people can act on; the message says which."""


@dataclass
class _Run:
    """A job being run by the worker thread."""

    job_id: int
    directory: Path
    model_name: str
    cancelled: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen[str] | None = None
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL_LINES))
    bars: BarFilter = field(default_factory=BarFilter)
    pending: dict[str, Any] = field(default_factory=dict)
    saved_at: float = 0.0
    reused: bool = False
    saving: threading.Lock = field(default_factory=threading.Lock)  # the reader and the flusher both save

    @property
    def source(self) -> Path:
        return self.directory / "source"

    def log_tail(self) -> str:
        return "\n".join(self.log)[-LOG_TAIL_CHARS:]


class ModelManager:
    """Training jobs, the model files, and which model Rasa serves (see the module docstring)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        rasa_bin: Path,
        models_dir: Path,
        rasa: RasaClient | None = None,
        nlu_dir: Path = NLU_DIR,
        default_override: Mapping[str, Mapping[str, Any]] | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._sessions = session_factory
        self._rasa_bin = rasa_bin
        self.models_dir = models_dir
        self.nlu_dir = nlu_dir
        self._rasa = rasa
        self._default_override = _merge_overrides(default_override)
        self._clock = clock
        self._runner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._lock = threading.Lock()  # the running job's process and cancel flag, and publishing
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._current: _Run | None = None
        self._closed = False
        self._activation = asyncio.Lock()
        _LIVE_RUNNERS.add(self._runner)

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
    def _jobs_root(self) -> Path:
        return self.models_dir / ".jobs"

    @property
    def _sources_root(self) -> Path:
        return self.models_dir / ".sources"

    def model_file(self, name: str) -> Path:
        return self.models_dir / f"{name}{MODEL_SUFFIX}"

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
        if self._closed:
            raise ConflictError("the model manager has stopped")
        label = " ".join(label.split())
        if not label:
            raise TrainingSourceError("a training job needs a label")
        override = _merge_overrides(self._default_override, config_override)
        self._jobs_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="staging-", dir=self._jobs_root))
        try:
            stage_training_files(Path(source_dir), staging / "source", config_override=override)
            name = model_name(fingerprint(staging / "source"))
            now = self._clock()
            with self._sessions.begin() as session:
                job = TrainingJob(
                    label=label[:200],
                    source=(source or str(source_dir))[:200],
                    status="queued",
                    progress=0,
                    stage="waiting for the trainer",
                    log_tail="",
                    model_name=name,
                    config_override=override,
                    runner=self._runner,
                    created_by=created_by,
                    created_at=now,
                    updated_at=now,
                )
                session.add(job)
                session.flush()
                job_id = job.id
                audit(
                    session,
                    actor=created_by,
                    action="model.training_queued",
                    entity_type="training_job",
                    entity_id=job_id,
                    details={"label": job.label, "source": job.source, "model": name},
                )
            staging.rename(self._jobs_root / job_directory_name(job_id, self._runner))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._ensure_worker()
        self._queue.put(job_id)
        return job_id

    def cancel(self, job_id: int, *, by: str = "system") -> dict[str, Any]:
        """Cancel a queued or running job: its Rasa process group is terminated and no model is
        published. Cancelling a cancelled job is a no-op; a finished one is a conflict."""
        with self._lock:
            with self._sessions.begin() as session:
                job = session.get(TrainingJob, job_id)
                if job is None:
                    raise NotFoundError(f"no training job {job_id}")
                if job.status in ("succeeded", "failed"):
                    raise ConflictError(f"training job {job_id} has already {job.status}")
                if job.status != "cancelled":
                    now = self._clock()
                    job.status, job.stage = "cancelled", f"cancelled by {by}"[:200]
                    job.finished_at = job.updated_at = now
                    audit(
                        session,
                        actor=by,
                        action="model.training_cancelled",
                        entity_type="training_job",
                        entity_id=job_id,
                    )
            run = self._current
            if run is not None and run.job_id == job_id:
                run.cancelled.set()
                if run.process is not None:
                    terminate_group(run.process)
        return self.job(job_id)

    def job(self, job_id: int) -> dict[str, Any]:
        with self._sessions() as session:
            job = session.get(TrainingJob, job_id)
            if job is None:
                raise NotFoundError(f"no training job {job_id}")
            return self._job_view(job)

    def jobs(self, *, limit: int = 20) -> list[dict[str, Any]]:
        with self._sessions() as session:
            rows = session.scalars(select(TrainingJob).order_by(TrainingJob.id.desc()).limit(limit)).all()
            return [self._job_view(job, brief=True) for job in rows]

    @staticmethod
    def _job_view(job: TrainingJob, *, brief: bool = False) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": job.id,
            "label": job.label,
            "source": job.source,
            "status": job.status,
            "progress": job.progress,
            "stage": job.stage,
            "model_name": job.model_name,
            "error": job.error,
            "created_by": job.created_by,
            "created_at": _iso(job.created_at),
            "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at),
            "evaluation_summary": evaluation_summary(job.evaluation),
        }
        if not brief:
            view.update(
                config_override=job.config_override,
                log_tail=job.log_tail,
                validation_output=job.validation_output,
                validation_expected=expected_validation_warnings(job.validation_output),
                evaluation=job.evaluation,
            )
        return view

    # -----------------------------------------------------------------------------------------------
    # Models

    def active_model_name(self) -> str | None:
        """The model in service: the one last activated, else what ``tagih serve`` would start."""
        path = startup_model(self._sessions, self.models_dir, self.nlu_dir)
        return path.name[: -len(MODEL_SUFFIX)] if path is not None else None

    def record_startup_model(self) -> str | None:
        """With no activation recorded yet, record the model ``tagih serve`` starts Rasa with (called
        when the app starts, right after serve started Rasa), so that a model published later is not
        taken for the active one by the newest-file fallback. Returns the name recorded, if any."""
        with self._sessions.begin() as session:
            if session.scalar(select(ModelActivation.id).limit(1)) is not None:
                return None
            path = current_model(self.models_dir, self.nlu_dir) or latest_model(self.models_dir)
            if path is None:
                return None
            name = path.name[: -len(MODEL_SUFFIX)]
            session.add(ModelActivation(model_name=name, activated_by="tagih serve", activated_at=self._clock()))
            return name

    def models(self) -> list[dict[str, Any]]:
        """Every model file, newest first, with the job that trained it (if one did)."""
        files = sorted(
            (p for p in self.models_dir.glob(f"*{MODEL_SUFFIX}") if p.is_file()),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        names = [p.name[: -len(MODEL_SUFFIX)] for p in files]
        active = self.active_model_name()
        with self._sessions() as session:
            trained: dict[str, TrainingJob] = {}
            if names:
                rows = session.scalars(
                    select(TrainingJob)
                    .where(TrainingJob.status == "succeeded", TrainingJob.model_name.in_(names))
                    .order_by(TrainingJob.id)
                ).all()
                trained = {job.model_name: job for job in rows if job.model_name}
            result = []
            for path, name in zip(files, names, strict=True):
                stat = path.stat()
                job = trained.get(name)
                result.append(
                    {
                        "name": name,
                        "file": path.name,
                        "size_bytes": stat.st_size,
                        "created_at": datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat(),
                        "label": job.label if job else "trained outside the editor (tagih train)",
                        "source": job.source if job else None,
                        "job_id": job.id if job else None,
                        "created_by": job.created_by if job else None,
                        "evaluation": evaluation_summary(job.evaluation) if job else None,
                        "active": name == active,
                    }
                )
            return result

    def _activatable(self, name: str) -> Path:
        """The file of model ``name``, or why it cannot be put in service."""
        if not _MODEL_NAME.match(name):
            raise NotFoundError(f"no model named {name!r}")
        path = self.model_file(name)
        if path.is_file():
            return path
        with self._sessions() as session:
            job = session.scalar(
                select(TrainingJob).where(TrainingJob.model_name == name).order_by(TrainingJob.id.desc()).limit(1)
            )
        if job is None or job.status == "succeeded":
            raise NotFoundError(f"no model named {name!r} in {self.models_dir}")
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
        if self._activation.locked():
            raise ConflictError("another model activation is in progress")
        async with self._activation:
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

    def activations(self, *, limit: int = 20) -> list[dict[str, Any]]:
        with self._sessions() as session:
            rows = session.scalars(select(ModelActivation).order_by(ModelActivation.id.desc()).limit(limit)).all()
            return [
                {
                    "model": row.model_name,
                    "previous": row.previous_model,
                    "activated_by": row.activated_by,
                    "activated_at": _iso(row.activated_at),
                }
                for row in rows
            ]

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

    # -----------------------------------------------------------------------------------------------
    # Start-up and shutdown

    def recover_interrupted(self) -> list[int]:
        """Mark failed the jobs whose process died mid-way (a crash, a kill, a power cut), and
        remove work directories nobody runs any more. Called when the app starts."""
        now = self._clock()
        failed: list[int] = []
        with self._sessions.begin() as session:
            for job in session.scalars(select(TrainingJob).where(TrainingJob.status.in_(ACTIVE_STATUSES))).all():
                if not _orphaned(job.runner):
                    continue
                was = job.status
                job.status, job.finished_at, job.updated_at = "failed", now, now
                job.stage = f"interrupted while {was}"
                job.error = f"the app stopped while the job was {was}; no model was published, start it again"
                failed.append(job.id)
            # Work directories of this database's finished jobs. A directory is named after the job
            # and its runner, so one of another database sharing models_dir (tests beside a
            # development server) never matches.
            finished = {
                job_directory_name(job_id, runner)
                for job_id, runner in session.execute(
                    select(TrainingJob.id, TrainingJob.runner).where(TrainingJob.status.in_(FINAL_STATUSES))
                ).all()
            }
        if self._jobs_root.is_dir():
            for directory in self._jobs_root.iterdir():
                stale_staging = (
                    directory.name.startswith("staging-")
                    and time.time() - directory.stat().st_mtime > STAGING_MAX_AGE_SECONDS
                )
                if directory.name in finished or stale_staging:
                    shutil.rmtree(directory, ignore_errors=True)
        if failed:
            logger.warning("training jobs %s were interrupted by a stop of the app; marked failed", failed)
        return failed

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop the worker: the running job is stopped and marked failed, queued ones too."""
        self._closed = True
        with self._lock:
            run = self._current
            if run is not None:
                run.cancelled.set()
                if run.process is not None:
                    terminate_group(run.process)
        while True:
            try:
                job_id = self._queue.get_nowait()
            except queue.Empty:
                break
            if job_id is not None:
                self._fail(job_id, "the app stopped before the job ran", stage="not started")
        if run is not None:
            self._fail(run.job_id, "the app stopped during the job; no model was published", stage="interrupted")
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout)
        _LIVE_RUNNERS.discard(self._runner)

    # -----------------------------------------------------------------------------------------------
    # The worker

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="tagih-training", daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None or self._closed:
                return
            try:
                self._run(job_id)
            except Exception:  # the outer boundary of the worker: log, keep serving jobs
                logger.exception("training job %s crashed", job_id)

    def _run(self, job_id: int) -> None:
        with self._sessions() as session:
            job = session.get(TrainingJob, job_id)
            name = job.model_name if job is not None else None
        directory = self._jobs_root / job_directory_name(job_id, self._runner)
        if name is None:
            shutil.rmtree(directory, ignore_errors=True)
            return
        run = _Run(job_id=job_id, directory=directory, model_name=name)
        with self._lock:
            self._current = run
        error: str | None = None
        try:
            if self._claim(run):
                self._validate(run)
                self._train(run)
                evaluation = self._evaluate(run)
                self._publish(run, evaluation)
        except _Cancelled:
            logger.info("training job %s cancelled", job_id)
        except _Failed as exc:
            error = str(exc)
        except Exception as exc:
            logger.exception("training job %s failed", job_id)
            error = f"internal error: {exc!r}"
        finally:
            with self._lock:
                self._current = None
            shutil.rmtree(directory, ignore_errors=True)
        # A job reads as finished only once its work files are gone (success removes them in _publish).
        if error is not None:
            self._fail(job_id, error, log_tail=run.log_tail())

    def _claim(self, run: _Run) -> bool:
        now = self._clock()
        with self._sessions.begin() as session:
            claimed = _changed(
                session,
                update(TrainingJob)
                .where(TrainingJob.id == run.job_id, TrainingJob.status == "queued")
                .values(
                    status="validating",
                    stage="validating the training data",
                    started_at=now,
                    updated_at=now,
                    runner=self._runner,
                ),
            )
        return bool(claimed)

    def _save(self, run: _Run, *, force: bool = False, **values: Any) -> None:
        """Write the job's state, at most every :data:`SAVE_INTERVAL_SECONDS` unless ``force``.
        A job no longer active in the database was cancelled from elsewhere: stop it."""
        with run.saving:
            run.pending.update(values)
            if not force and time.monotonic() - run.saved_at < SAVE_INTERVAL_SECONDS:
                return
            values = {**run.pending, "log_tail": run.log_tail(), "updated_at": self._clock()}
            run.pending.clear()
            run.saved_at = time.monotonic()
            with self._sessions.begin() as session:
                written = _changed(
                    session,
                    update(TrainingJob)
                    .where(TrainingJob.id == run.job_id, TrainingJob.status.in_(ACTIVE_STATUSES))
                    .values(**values),
                )
        if not written:
            with self._lock:
                run.cancelled.set()
                if run.process is not None:
                    terminate_group(run.process)

    def _fail(self, job_id: int, error: str, *, stage: str = "failed", log_tail: str | None = None) -> None:
        now = self._clock()
        values: dict[str, Any] = {
            "status": "failed",
            "error": error,
            "stage": stage[:200],
            "finished_at": now,
            "updated_at": now,
        }
        if log_tail is not None:
            values["log_tail"] = log_tail
        with self._sessions.begin() as session:
            session.execute(
                update(TrainingJob)
                .where(TrainingJob.id == job_id, TrainingJob.status.in_(ACTIVE_STATUSES))
                .values(**values)
            )

    def _command(
        self,
        run: _Run,
        args: Sequence[str],
        *,
        cwd: Path,
        band: tuple[int, int],
        stage: str,
        components: list[tuple[str, bool]] | None = None,
        output: list[str] | None = None,
    ) -> int:
        """Run ``rasa <args>`` for ``run``; progress moves through ``band`` of the job's bar."""
        start, end = band
        progress = TrainingProgress(components) if components else None
        self._save(run, force=True, stage=stage[:200], progress=start)
        run.log.append(f"$ rasa {' '.join(args)}")

        def on_line(raw: str) -> None:
            line = clean_line(raw)
            if line is None:
                return
            if output is not None:
                output.append(line)
            if run.bars.keep(line):
                run.log.append(line)
            if progress is not None and progress.feed(line):
                detail = f"{stage}: {progress.component}" if progress.component else stage
                self._save(run, stage=detail[:200], progress=int(start + (end - start) * progress.fraction))

        def on_start(process: subprocess.Popen[str]) -> None:
            with self._lock:
                run.process = process
                if run.cancelled.is_set():
                    terminate_group(process)

        def flush() -> None:  # progress held back by the rate limit, while Rasa prints nothing
            while not finished.wait(SAVE_INTERVAL_SECONDS):
                if run.pending:
                    self._save(run, force=True)

        finished = threading.Event()
        flusher = threading.Thread(target=flush, name=f"tagih-training-{run.job_id}-flush", daemon=True)
        flusher.start()
        try:
            code = run_rasa([str(self._rasa_bin), *args], cwd=cwd, on_line=on_line, on_start=on_start)
        except OSError as exc:
            raise _Failed(f"cannot run {self._rasa_bin}: {exc}") from exc
        finally:
            finished.set()
            flusher.join()
            with self._lock:
                run.process = None
        if run.cancelled.is_set():
            raise _Cancelled
        self._save(run, force=True, progress=end)
        return code

    def _validate(self, run: _Run) -> None:
        output: list[str] = []
        code = self._command(
            run,
            ["data", "validate", "--config", "config.yml", "--domain", "domain.yml", "--data", "data"],
            cwd=run.source,
            band=VALIDATE_BAND,
            stage="validating the training data",
            output=output,
        )
        text = "\n".join(output)[-VALIDATION_CHARS:]
        self._save(run, force=True, validation_output=text)
        if code != 0:
            errors = [line.strip() for line in output if _ERROR_LINE.search(line) and "Warning: " not in line]
            reason = errors[0] if errors else (output[-1].strip() if output else f"exit code {code}")
            raise _Failed(f"the training data is invalid: {reason[:500]}")

    def _train(self, run: _Run) -> None:
        self._save(run, force=True, status="training", stage="training", progress=TRAIN_BAND[0])
        if self.model_file(run.model_name).exists():
            run.reused = True
            run.log.append(f"{run.model_name} already exists (same training files and configuration): reusing it")
            self._save(run, force=True, stage="reusing the model trained earlier", progress=TRAIN_BAND[1])
            return
        out = run.directory / "out"
        code = self._command(
            run,
            [
                "train",
                "--skip-validation",
                "--config",
                "config.yml",
                "--domain",
                "domain.yml",
                "--data",
                "data",
                "--out",
                str(out),
                "--fixed-model-name",
                run.model_name,
            ],
            cwd=run.source,
            band=TRAIN_BAND,
            stage="training",
            components=config_components(run.source / "config.yml"),
        )
        if code != 0:
            raise _Failed(f"rasa train failed with exit code {code}; see the log")
        if not (out / f"{run.model_name}{MODEL_SUFFIX}").is_file():
            raise _Failed("rasa train finished without writing a model")

    def _evaluate(self, run: _Run) -> dict[str, Any]:
        self._save(run, force=True, status="evaluating", stage="splitting the NLU data")
        split = run.directory / "split"
        code = self._command(
            run,
            [
                "data",
                "split",
                "nlu",
                "--nlu",
                "data",
                "--training-fraction",
                str(TRAINING_FRACTION),
                "--random-seed",
                str(SPLIT_SEED),
                "--out",
                str(split),
            ],
            cwd=run.source,
            band=(HELD_OUT_BAND[0], HELD_OUT_BAND[0]),
            stage="splitting the NLU data",
        )
        train_file, test_file = split / "training_data.yml", split / "test_data.yml"
        if code != 0 or not train_file.is_file() or not test_file.is_file():
            raise _Failed(f"rasa data split nlu failed (exit code {code}); see the log")
        held_out = run.directory / "held-out"
        code = self._command(
            run,
            [
                "train",
                "nlu",
                "--config",
                "config.yml",
                "--nlu",
                str(train_file),
                "--out",
                str(held_out),
                "--fixed-model-name",
                "held-out",
            ],
            cwd=run.source,
            band=HELD_OUT_BAND,
            stage="evaluating: training on 80% of the examples",
            components=config_components(run.source / "config.yml"),
        )
        if code != 0 or not (held_out / f"held-out{MODEL_SUFFIX}").is_file():
            raise _Failed(f"training the held-out evaluation model failed (exit code {code}); see the log")
        candidate = self._test(
            run,
            held_out / f"held-out{MODEL_SUFFIX}",
            test_file,
            run.directory / "test-candidate",
            band=TEST_CANDIDATE_BAND,
            stage="evaluating: testing on the other 20%",
        )
        if candidate is None:
            raise _Failed("rasa test nlu failed on the held-out model; see the log")
        training_texts = set(nlu_examples(train_file))
        evaluation: dict[str, Any] = {
            "method": "held-out",
            "split": {
                "seed": SPLIT_SEED,
                "training_fraction": TRAINING_FRACTION,
                "training_examples": len(nlu_examples(train_file)),
                "test_examples": len(candidate),
            },
            "candidate": {
                "model": run.model_name,
                "trained_on": "the training split only (the published model is trained on all examples)",
                **self._scores(candidate, training_texts),
            },
            "active": None,
        }
        active = self.active_model_name()
        if active is not None and self.model_file(active).exists():
            predictions = self._test(
                run,
                self.model_file(active),
                test_file,
                run.directory / "test-active",
                band=TEST_ACTIVE_BAND,
                stage=f"evaluating: testing the active model {active}",
            )
            if predictions is None:
                evaluation["active"] = {"model": active, "error": "rasa test nlu failed on the active model"}
            else:
                evaluation["active"] = {"model": active, **self._scores(predictions, self._training_texts(active))}
        self._save(run, force=True, evaluation=evaluation, stage="evaluated", progress=TEST_ACTIVE_BAND[1])
        return evaluation

    def _test(
        self, run: _Run, model: Path, test_file: Path, out: Path, *, band: tuple[int, int], stage: str
    ) -> list[Prediction] | None:
        code = self._command(
            run,
            [
                "test",
                "nlu",
                "--model",
                str(model.absolute()),
                "--nlu",
                str(test_file),
                "--out",
                str(out),
                "--no-plot",
                "--successes",
            ],
            cwd=run.source,
            band=band,
            stage=stage,
        )
        predictions = read_predictions(out) if code == 0 else []
        return predictions or None

    @staticmethod
    def _scores(predictions: list[Prediction], training_texts: set[str] | None) -> dict[str, Any]:
        scores = score(predictions)
        if training_texts is None:
            scores["seen_in_training"] = None
            return scores
        flags = seen(predictions, training_texts)
        scores["seen_in_training"] = sum(flags)
        unseen = [p for p, was_seen in zip(predictions, flags, strict=True) if not was_seen]
        if flags and any(flags) and unseen:
            brief = score(unseen)
            scores["unseen"] = {key: brief[key] for key in ("examples", "accuracy", "macro_f1", "weighted_f1")}
        return scores

    def _training_texts(self, name: str) -> set[str] | None:
        """The NLU examples model ``name`` was trained on, when known: from the copy kept when a job
        published it, or the repository's when the name is the fingerprint of nlu/."""
        snapshot = self._sources_root / name / "data"
        if snapshot.is_dir():
            return set(nlu_examples(snapshot))
        if name == model_name(fingerprint(self.nlu_dir)):
            return set(nlu_examples(self.nlu_dir / "data"))
        return None

    def _publish(self, run: _Run, evaluation: dict[str, Any]) -> None:
        target = self.model_file(run.model_name)
        snapshot = self._sources_root / run.model_name
        with self._lock:
            if run.cancelled.is_set():
                raise _Cancelled
            with self._sessions() as session:
                status = session.scalar(select(TrainingJob.status).where(TrainingJob.id == run.job_id))
            if status not in ACTIVE_STATUSES:
                raise _Cancelled
            moved = False
            if not run.reused:
                os.replace(run.directory / "out" / f"{run.model_name}{MODEL_SUFFIX}", target)
                moved = True
            self._sources_root.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(snapshot, ignore_errors=True)
            run.source.rename(snapshot)
            shutil.rmtree(run.directory, ignore_errors=True)  # all it held worth keeping is moved out
            now = self._clock()
            with self._sessions.begin() as session:
                done = _changed(
                    session,
                    update(TrainingJob)
                    .where(TrainingJob.id == run.job_id, TrainingJob.status.in_(ACTIVE_STATUSES))
                    .values(
                        status="succeeded",
                        progress=100,
                        stage="ready to activate",
                        evaluation=evaluation,
                        log_tail=run.log_tail(),
                        finished_at=now,
                        updated_at=now,
                    ),
                )
            if not done:  # cancelled from another process between the check and now
                if moved:
                    target.unlink(missing_ok=True)
                raise _Cancelled


def evaluation_summary(evaluation: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The headline numbers of a job's evaluation, for lists."""
    if not evaluation:
        return None
    candidate = evaluation.get("candidate") or {}
    active = evaluation.get("active") or {}
    return {
        "examples": candidate.get("examples"),
        "accuracy": candidate.get("accuracy"),
        "macro_f1": candidate.get("macro_f1"),
        "active_model": active.get("model"),
        "active_accuracy": active.get("accuracy"),
        "active_macro_f1": active.get("macro_f1"),
        "active_seen_in_training": active.get("seen_in_training"),
    }
