"""What the admin pages and API read about models, as plain dicts: a training job (brief for lists,
with its log, validation output and evaluation otherwise), the model files with the job that trained
each and which one is active, the recent activations, and an evaluation's headline numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import ModelActivation, TrainingJob
from bot.dialogue.responses import expected_validation_warnings
from bot.errors import NotFoundError
from bot.modelops.store import ModelStore, name_of

__all__ = ["activations", "evaluation_summary", "job", "job_view", "jobs", "models"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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


def job_view(job: TrainingJob, *, brief: bool = False) -> dict[str, Any]:
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


def job(session_factory: sessionmaker[Session], job_id: int) -> dict[str, Any]:
    with session_factory() as session:
        row = session.get(TrainingJob, job_id)
        if row is None:
            raise NotFoundError(f"no training job {job_id}")
        return job_view(row)


def jobs(session_factory: sessionmaker[Session], *, limit: int = 20) -> list[dict[str, Any]]:
    with session_factory() as session:
        rows = session.scalars(select(TrainingJob).order_by(TrainingJob.id.desc()).limit(limit)).all()
        return [job_view(row, brief=True) for row in rows]


def models(
    session_factory: sessionmaker[Session], store: ModelStore, active_model: Callable[[], str | None]
) -> list[dict[str, Any]]:
    """Every model file, newest first, with the job that trained it (if one did)."""
    files = store.model_files()
    names = [name_of(p) for p in files]
    active = active_model()
    with session_factory() as session:
        trained: dict[str, TrainingJob] = {}
        if names:
            rows = session.scalars(
                select(TrainingJob)
                .where(TrainingJob.status == "succeeded", TrainingJob.model_name.in_(names))
                .order_by(TrainingJob.id)
            ).all()
            trained = {row.model_name: row for row in rows if row.model_name}
        result = []
        for path, name in zip(files, names, strict=True):
            stat = path.stat()
            row = trained.get(name)
            result.append(
                {
                    "name": name,
                    "file": path.name,
                    "size_bytes": stat.st_size,
                    "created_at": datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat(),
                    "label": row.label if row else "trained outside the editor (tagih train)",
                    "source": row.source if row else None,
                    "job_id": row.id if row else None,
                    "created_by": row.created_by if row else None,
                    "evaluation": evaluation_summary(row.evaluation) if row else None,
                    "active": name == active,
                }
            )
        return result


def activations(session_factory: sessionmaker[Session], *, limit: int = 20) -> list[dict[str, Any]]:
    with session_factory() as session:
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
