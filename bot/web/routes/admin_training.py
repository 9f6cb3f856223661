"""The admin editor's training data: examples per intent and the rules that route intents to flows
(changes need a new model: bot/web/routes/admin_models.py).

Admins only (agents get 403); every change needs the CSRF token and writes a new flow version.
Unknown intents or examples answer 404, invalid edits 422 with every reason (nothing stored).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from bot.services import flows, training_data
from bot.web.auth import AdminApi, csrf_protect
from bot.web.deps import SessionFactoryDep, in_transaction

router = APIRouter(prefix="/admin/api/training", tags=["admin"], include_in_schema=False)
Csrf = Depends(csrf_protect)
Intent = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(max_length=2 * training_data.MAX_EXAMPLE)]


class ExamplesIn(BaseModel):
    intent: Intent
    examples: list[Text] = Field(min_length=1, max_length=200)


class ExampleEditIn(BaseModel):
    intent: Intent
    text: Text
    new_text: Text


class ExamplesMoveIn(BaseModel):
    intent: Intent
    texts: list[Text] = Field(min_length=1, max_length=200)
    to: Intent


class RouteIn(BaseModel):
    target: str = Field(min_length=1, max_length=100)


def _documents(session: Any) -> tuple[int, dict[str, str]]:
    version = flows.seed(session)
    return version.number, dict(version.documents)


def _saved(version: Any) -> dict[str, Any]:
    return {"number": version.number, "summary": version.summary}


@router.get("/intents")
async def list_intents(user: AdminApi, factory: SessionFactoryDep) -> dict[str, Any]:
    """Every intent with its examples and the file each lives in, from the newest version."""

    def work(session: Any) -> dict[str, Any]:
        number, documents = _documents(session)
        return {"version": number, "intents": training_data.intents(documents)}

    return await in_transaction(factory, work)


@router.get("/intents/{name}")
async def show_intent(name: str, user: AdminApi, factory: SessionFactoryDep) -> dict[str, Any]:
    def work(session: Any) -> dict[str, Any]:
        number, documents = _documents(session)
        return {"version": number, **training_data.intent(documents, name)}

    return await in_transaction(factory, work)


@router.post("/examples", dependencies=[Csrf], status_code=201)
async def add_examples(body: ExamplesIn, user: AdminApi, factory: SessionFactoryDep) -> dict[str, Any]:
    """Add examples to an intent (at the end of its own block; they take effect with a new model)."""
    version = await in_transaction(
        factory, lambda s: training_data.add_examples_saved(s, body.intent, body.examples, by=user.email)
    )
    return _saved(version)


@router.put("/examples", dependencies=[Csrf])
async def edit_example(body: ExampleEditIn, user: AdminApi, factory: SessionFactoryDep) -> dict[str, Any]:
    version = await in_transaction(
        factory,
        lambda s: training_data.edit_example_saved(s, body.intent, body.text, body.new_text, by=user.email),
    )
    return _saved(version)


@router.delete("/examples", dependencies=[Csrf])
async def remove_example(
    intent: Annotated[str, Query(min_length=1, max_length=64)],
    text: Annotated[str, Query(min_length=1, max_length=2 * training_data.MAX_EXAMPLE)],
    user: AdminApi,
    factory: SessionFactoryDep,
) -> dict[str, Any]:
    version = await in_transaction(
        factory, lambda s: training_data.remove_example_saved(s, intent, text, by=user.email)
    )
    return _saved(version)


@router.post("/examples/move", dependencies=[Csrf])
async def move_examples(body: ExamplesMoveIn, user: AdminApi, factory: SessionFactoryDep) -> dict[str, Any]:
    version = await in_transaction(
        factory,
        lambda s: training_data.move_examples_saved(s, body.intent, body.texts, body.to, by=user.email),
    )
    return _saved(version)


@router.get("/routes")
async def list_routes(user: AdminApi, factory: SessionFactoryDep) -> dict[str, Any]:
    """Which intent starts which flow (or a handoff), with the targets each may be given."""

    def work(session: Any) -> dict[str, Any]:
        number, documents = _documents(session)
        return {"version": number, **training_data.routes(documents)}

    return await in_transaction(factory, work)


@router.put("/routes/{intent}", dependencies=[Csrf])
async def set_route(intent: str, body: RouteIn, user: AdminApi, factory: SessionFactoryDep) -> dict[str, Any]:
    version = await in_transaction(
        factory, lambda s: training_data.set_route_saved(s, intent, body.target, by=user.email)
    )
    return _saved(version)
