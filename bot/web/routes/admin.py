"""The admin editor: the flow set's versions, live edits of responses and files.

Admins only (agents get 403, no session 401 / the login page); every change needs the CSRF token
and writes a new version. Training examples and routing: bot/web/routes/admin_training.py; model
training and activation: bot/web/routes/admin_models.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field

from bot.services import flows
from bot.web.auth import AdminApi, AdminPage, csrf_protect, session_csrf
from bot.web.deps import SessionFactoryDep, in_transaction
from bot.web.headers import csp_nonce

router = APIRouter(tags=["admin"], include_in_schema=False)
api = APIRouter(prefix="/admin/api/flows", tags=["admin"], include_in_schema=False)
Csrf = Depends(csrf_protect)
_templates = Environment(
    loader=FileSystemLoader(str(Path(__file__).resolve().parent.parent / "templates")),
    autoescape=select_autoescape(["html"]),
)


class ResponseIn(BaseModel):
    id: str = Field(max_length=flows.MAX_TEXT)
    en: str = Field(max_length=flows.MAX_TEXT)


class FileIn(BaseModel):
    # The path is checked by flows.path_problem (the one check for every way in and out), which
    # answers 422 with the reason: relative, under nlu/data/ or one of the fixed documents, no '..'.
    path: str = Field(max_length=flows.MAX_PATH_CHARS)
    text: str = Field(max_length=2_000_000)


def _saved(request: Request, version: Any) -> dict[str, Any]:
    responses = getattr(request.app.state, "responses", None)
    if responses is not None:
        responses.invalidate()  # this process picks the edit up at once; others within seconds
    return {"number": version.number, "summary": version.summary}


@api.get("/versions")
async def list_versions(user: AdminApi, factory: SessionFactoryDep) -> list[dict[str, Any]]:
    return await in_transaction(factory, flows.versions)


@api.get("/versions/{number}")
async def show_version(number: int, user: AdminApi, factory: SessionFactoryDep) -> dict[str, Any]:
    def work(session: Any) -> dict[str, Any]:
        version = flows.get_version(session, number)
        return {"number": version.number, "summary": version.summary, "files": sorted(version.documents)}

    return await in_transaction(factory, work)


@api.get("/versions/{number}/file", response_class=PlainTextResponse)
async def show_file(
    number: int, path: Annotated[str, Query(max_length=200)], user: AdminApi, factory: SessionFactoryDep
) -> str:
    def work(session: Any) -> str:
        documents = flows.get_version(session, number).documents
        if path not in documents:
            raise flows.NotFoundError(f"no file {path} in version {number}")
        return documents[path]

    return await in_transaction(factory, work)


@api.get("/diff", response_class=PlainTextResponse)
async def show_diff(
    old: Annotated[int, Query(ge=1)], new: Annotated[int, Query(ge=1)], user: AdminApi, factory: SessionFactoryDep
) -> str:
    return await in_transaction(factory, lambda s: flows.diff(s, old, new) or "(no differences)\n")


@api.get("/responses")
async def list_responses(user: AdminApi, factory: SessionFactoryDep) -> list[dict[str, Any]]:
    def work(session: Any) -> list[dict[str, Any]]:
        domain = yaml.safe_load(flows.seed(session).documents[flows.DOMAIN])
        result = []
        for name, variants in (domain.get("responses") or {}).items():
            texts = {"id": "", "en": ""}
            for variant in variants:
                conditions = variant.get("condition") or []
                language = next((c.get("value") for c in conditions if c.get("name") == "language"), "id")
                texts[language] = variant.get("text", "")
            buttons: list[Any] = next((v.get("buttons") for v in variants if v.get("buttons")), [])
            result.append({"name": name, "text": texts, "buttons": buttons})
        return result

    return await in_transaction(factory, work)


@api.put("/responses/{name}", dependencies=[Csrf])
async def edit_response(
    name: str, body: ResponseIn, request: Request, user: AdminApi, factory: SessionFactoryDep
) -> dict[str, Any]:
    version = await in_transaction(
        factory, lambda s: flows.edit_response(s, name, {"id": body.id, "en": body.en}, by=user.email)
    )
    return _saved(request, version)


@api.put("/files", dependencies=[Csrf])
async def edit_file(body: FileIn, request: Request, user: AdminApi, factory: SessionFactoryDep) -> dict[str, Any]:
    version = await in_transaction(factory, lambda s: flows.edit_document(s, body.path, body.text, by=user.email))
    return _saved(request, version)


@api.post("/versions/{number}/restore", dependencies=[Csrf])
async def restore_version(number: int, request: Request, user: AdminApi, factory: SessionFactoryDep) -> dict[str, Any]:
    version = await in_transaction(factory, lambda s: flows.restore(s, number, by=user.email))
    return _saved(request, version)


@router.get("/admin", response_class=HTMLResponse)
async def admin_page(request: Request, user: AdminPage) -> HTMLResponse:
    html = _templates.get_template("admin.html").render(
        user=user, csrf=session_csrf(request), csp_nonce=csp_nonce(request)
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
