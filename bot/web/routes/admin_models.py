"""The admin editor's model management: train in the background, follow the job, activate, roll back.

Admins only (agents 403, no session 401); state-changing routes need the CSRF token. The
:class:`ModelManager` lives on ``app.state.models``; this router's lifespan builds it after the app's
(so the database and the Rasa client exist), marks jobs a dead process left mid-way as failed,
records the model Rasa was started with when no activation is recorded yet, and stops a running
training when the app stops. Answers: 404 unknown model or job, 409 a conflicting
state (another activation, a failed or unfinished model, a finished job), 422 bad input, 502 Rasa
refused the model, 503 Rasa unreachable; after a 502/503 the previous model is still serving.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.dialogue.rasa_client import ModelLoadError
from bot.dialogue.training import TrainingSourceError
from bot.errors import DialogueUnavailableError
from bot.modelops.manager import ModelManager
from bot.services import flows
from bot.web.auth import AdminApi, csrf_protect
from bot.web.deps import SessionFactoryDep


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    manager = ModelManager.from_settings(app.state.settings, app.state.session_factory, app.state.rasa)
    await to_thread.run_sync(manager.recover_interrupted)
    await to_thread.run_sync(manager.record_startup_model)
    app.state.models = manager
    try:
        yield
    finally:
        await to_thread.run_sync(manager.shutdown)


router = APIRouter(prefix="/admin/api/models", tags=["admin: models"], lifespan=_lifespan, include_in_schema=False)
Csrf = Depends(csrf_protect)


def get_models(request: Request) -> ModelManager:
    return request.app.state.models


ModelsDep = Annotated[ModelManager, Depends(get_models)]


class TrainIn(BaseModel):
    """What to train: a flow version's files, or the repository's nlu/ as it is on disk."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, strict=True, description="flow version number")
    source: Literal["repository"] | None = None
    label: str | None = Field(None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_source(self) -> TrainIn:
        if (self.version is None) == (self.source is None):
            raise ValueError('give either "version" (a flow version number) or "source": "repository"')
        return self


def _load_error(exc: ModelLoadError) -> HTTPException:
    return HTTPException(502, f"{exc}; the previous model is still serving")


def _unavailable(exc: DialogueUnavailableError) -> HTTPException:
    return HTTPException(503, f"Rasa is unavailable ({exc}); the active model did not change")


@router.get("")
async def list_models(user: AdminApi, models: ModelsDep) -> dict[str, Any]:
    """Every model file (label, created, evaluation summary, active flag) and the recent jobs."""

    def work() -> dict[str, Any]:
        return {
            "active": models.active_model_name(),
            "models": models.models(),
            "jobs": models.jobs(limit=10),
            "activations": models.activations(limit=10),
        }

    return await to_thread.run_sync(work)


@router.post("/train", status_code=202, dependencies=[Csrf])
async def train(
    body: TrainIn, user: AdminApi, models: ModelsDep, factory: SessionFactoryDep, response: Response
) -> dict[str, Any]:
    """Queue a training; poll ``/admin/api/models/jobs/{id}`` for its progress."""
    if body.version is not None:
        export = getattr(flows, "export_version", None)
        if export is None:
            raise HTTPException(400, 'training a flow version is not available yet; use "source": "repository"')
        number = body.version

        def stage() -> int:
            with tempfile.TemporaryDirectory(prefix="tagih-version-") as tmp:
                with factory() as session:
                    directory = export(session, number, Path(tmp) / "train")
                return models.start_training(
                    Path(directory),
                    label=body.label or f"flow version {number}",
                    source=f"flow version {number}",
                    created_by=user.email,
                )

    else:

        def stage() -> int:
            return models.start_training(
                models.nlu_dir,
                label=body.label or "repository nlu/",
                source="repository",
                created_by=user.email,
            )

    try:
        job_id = await to_thread.run_sync(stage)
    except TrainingSourceError as exc:
        raise HTTPException(422, str(exc)) from exc
    response.headers["Location"] = f"{router.prefix}/jobs/{job_id}"
    return await to_thread.run_sync(models.job, job_id)


@router.get("/jobs")
async def list_jobs(user: AdminApi, models: ModelsDep) -> list[dict[str, Any]]:
    return await to_thread.run_sync(lambda: models.jobs(limit=50))


@router.get("/jobs/{job_id}")
async def show_job(job_id: int, user: AdminApi, models: ModelsDep) -> dict[str, Any]:
    """A job's state: status, progress 0-100, stage, log tail, validation output, evaluation."""
    return await to_thread.run_sync(models.job, job_id)


@router.post("/jobs/{job_id}/cancel", dependencies=[Csrf])
async def cancel_job(job_id: int, user: AdminApi, models: ModelsDep) -> dict[str, Any]:
    return await to_thread.run_sync(lambda: models.cancel(job_id, by=user.email))


@router.post("/rollback", dependencies=[Csrf])
async def rollback(user: AdminApi, models: ModelsDep) -> dict[str, Any]:
    """Put back the model that was active before the last activation."""
    try:
        return await models.rollback(by=user.email)
    except ModelLoadError as exc:
        raise _load_error(exc) from exc
    except DialogueUnavailableError as exc:
        raise _unavailable(exc) from exc


@router.post("/{name}/activate", dependencies=[Csrf])
async def activate(name: str, user: AdminApi, models: ModelsDep) -> dict[str, Any]:
    """Hot-swap the Rasa server to model ``name``; debtor turns wait while it loads."""
    try:
        return await models.activate(name, by=user.email)
    except ModelLoadError as exc:
        raise _load_error(exc) from exc
    except DialogueUnavailableError as exc:
        raise _unavailable(exc) from exc
