"""The rows of ``training_jobs`` and the runners that own them: a row is a job's whole state (status,
progress, stage, log tail, evaluation), so the browser polls it and a restarted app still shows the
outcome; every change of status is one conditional UPDATE, so a job cancelled from another process
is never overwritten; and a job whose runner (host:pid:token) died mid-way is recognised as orphaned.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import TrainingJob
from bot.dialogue.training import TrainingSourceError
from bot.errors import ConflictError, NotFoundError
from bot.modelops.store import job_directory_name
from bot.services.audit import audit

__all__ = [
    "ACTIVE_STATUSES",
    "FINAL_STATUSES",
    "JobRows",
    "merge_overrides",
    "now",
    "orphaned",
    "register_runner",
    "release_runner",
]

ACTIVE_STATUSES = ("queued", "validating", "training", "evaluating")
FINAL_STATUSES = ("succeeded", "failed", "cancelled")

# Runners (host:pid:token) of the managers alive in this process: their jobs are not orphans.
_LIVE_RUNNERS: set[str] = set()


def now() -> datetime:
    return datetime.now(timezone.utc)


def register_runner() -> str:
    """A new runner name for a manager of this process, counted alive until released."""
    runner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    _LIVE_RUNNERS.add(runner)
    return runner


def release_runner(runner: str) -> None:
    _LIVE_RUNNERS.discard(runner)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphaned(runner: str | None) -> bool:
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


def merge_overrides(*overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]] | None:
    merged: dict[str, dict[str, Any]] = {}
    for override in overrides:
        for component, values in (override or {}).items():
            if not isinstance(values, Mapping):
                raise TrainingSourceError(f"config override for {component} must be a mapping of settings")
            merged.setdefault(str(component), {}).update(values)
    return merged or None


def _changed(session: Session, statement: Any) -> int:
    """Rows an UPDATE changed."""
    return cast("CursorResult[Any]", session.execute(statement)).rowcount or 0


class JobRows:
    """Reading and writing the ``training_jobs`` rows, stamped with ``clock``."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Callable[[], datetime] = now) -> None:
        self._sessions = session_factory
        self._clock = clock

    def insert(
        self,
        *,
        label: str,
        source: str,
        model_name: str,
        config_override: dict[str, dict[str, Any]] | None,
        runner: str,
        created_by: str,
    ) -> int:
        """Record a queued job (and audit it); returns its id."""
        now = self._clock()
        with self._sessions.begin() as session:
            job = TrainingJob(
                label=label[:200],
                source=source[:200],
                status="queued",
                progress=0,
                stage="waiting for the trainer",
                log_tail="",
                model_name=model_name,
                config_override=config_override,
                runner=runner,
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
                details={"label": job.label, "source": job.source, "model": model_name},
            )
        return job_id

    def cancel(self, job_id: int, *, by: str) -> None:
        """Mark a queued or running job cancelled (a no-op for a cancelled one; a finished one is a
        conflict)."""
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

    def model_name(self, job_id: int) -> str | None:
        """The name of the model a job trains (None for an unknown job)."""
        with self._sessions() as session:
            job = session.get(TrainingJob, job_id)
            return job.model_name if job is not None else None

    def status(self, job_id: int) -> str | None:
        with self._sessions() as session:
            return session.scalar(select(TrainingJob.status).where(TrainingJob.id == job_id))

    def claim(self, job_id: int, runner: str) -> bool:
        """Move a queued job to validating for ``runner``; False if it is no longer queued."""
        now = self._clock()
        with self._sessions.begin() as session:
            claimed = _changed(
                session,
                update(TrainingJob)
                .where(TrainingJob.id == job_id, TrainingJob.status == "queued")
                .values(
                    status="validating",
                    stage="validating the training data",
                    started_at=now,
                    updated_at=now,
                    runner=runner,
                ),
            )
        return bool(claimed)

    def save(self, job_id: int, values: dict[str, Any]) -> bool:
        """Write ``values`` to an active job; False if the job is no longer active."""
        values = {**values, "updated_at": self._clock()}
        with self._sessions.begin() as session:
            written = _changed(
                session,
                update(TrainingJob)
                .where(TrainingJob.id == job_id, TrainingJob.status.in_(ACTIVE_STATUSES))
                .values(**values),
            )
        return bool(written)

    def fail(self, job_id: int, error: str, *, stage: str = "failed", log_tail: str | None = None) -> None:
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

    def succeed(self, job_id: int, *, evaluation: dict[str, Any], log_tail: str) -> bool:
        """Mark an active job succeeded; False if it was cancelled meanwhile."""
        now = self._clock()
        with self._sessions.begin() as session:
            done = _changed(
                session,
                update(TrainingJob)
                .where(TrainingJob.id == job_id, TrainingJob.status.in_(ACTIVE_STATUSES))
                .values(
                    status="succeeded",
                    progress=100,
                    stage="ready to activate",
                    evaluation=evaluation,
                    log_tail=log_tail,
                    finished_at=now,
                    updated_at=now,
                ),
            )
        return bool(done)

    def recover(self) -> tuple[list[int], set[str]]:
        """Mark failed the active jobs whose runner is gone; returns their ids and the work directory
        names of this database's finished jobs."""
        now = self._clock()
        failed: list[int] = []
        with self._sessions.begin() as session:
            for job in session.scalars(select(TrainingJob).where(TrainingJob.status.in_(ACTIVE_STATUSES))).all():
                if not orphaned(job.runner):
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
        return failed, finished
