"""Console routes for identity security: locks agents can clear, link requests agents decide."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from bot.services import security_desk
from bot.web.auth import AgentApi, csrf_protect
from bot.web.deps import ClockDep, SessionFactoryDep, SettingsDep, in_transaction

api = APIRouter(prefix="/console/api", tags=["console"], include_in_schema=False)
Csrf = Depends(csrf_protect)


class LinkDecisionIn(BaseModel):
    approve: bool


@api.get("/security")
async def get_security(user: AgentApi, factory: SessionFactoryDep, clock: ClockDep) -> dict[str, Any]:
    return await in_transaction(factory, lambda s: security_desk.overview(s, now=clock()))


@api.post("/identity-locks/{lock_id}/clear", dependencies=[Csrf])
async def clear_lock(lock_id: int, user: AgentApi, factory: SessionFactoryDep, clock: ClockDep) -> dict[str, Any]:
    return await in_transaction(factory, lambda s: security_desk.clear_identity_lock(s, lock_id, user, now=clock()))


@api.post("/link-requests/{request_id}", dependencies=[Csrf])
async def decide_link(
    request_id: int,
    body: LinkDecisionIn,
    request: Request,
    user: AgentApi,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> dict[str, Any]:
    responses = request.app.state.responses

    def render(name: str, language: str, values: dict[str, Any]) -> dict[str, Any]:
        return responses.render(name, language, company_name=settings.company_name, **values)

    queued = await in_transaction(
        factory,
        lambda s: security_desk.decide_link(s, request_id, user, approve=body.approve, now=clock(), render=render),
    )
    for conversation_id, message_ids in queued:
        request.app.state.channels.outbox.submit(message_ids, conversation_id=conversation_id)
    return {"id": request_id, "status": "approved" if body.approve else "rejected"}
