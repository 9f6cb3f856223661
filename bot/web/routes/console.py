"""The agent console: pages, a JSON API behind them, and server-sent events for live updates.

Every state-changing route needs a console session and its CSRF token; agents cannot reach admin
routes, nor conversations that never had a handoff (404, see bot/services/console.py); every action
and every view of a conversation is audited by the service layer.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from bot.db.models import Handoff, Message
from bot.errors import DialogueUnavailableError, NotFoundError
from bot.services import console
from bot.web.auth import AdminApi, AgentApi, AgentPage, csrf_protect, session_csrf
from bot.web.deps import ClockDep, SessionFactoryDep, SettingsDep, in_transaction
from bot.web.headers import csp_nonce

router = APIRouter(tags=["console"], include_in_schema=False)
api = APIRouter(prefix="/console/api", tags=["console"], include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(str(Path(__file__).resolve().parent.parent / "templates")),
    autoescape=select_autoescape(["html"]),
)
Csrf = Depends(csrf_protect)
_NOT_FOUND_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found - Tagih</title></head>
<body><h1>No such conversation</h1><p><a href="/console">Back to the queue</a></p></body></html>
"""


class ReplyIn(BaseModel):
    text: str | None = Field(None, max_length=console.MAX_REPLY_CHARS)
    template: bool = False


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=console.MAX_REPLY_CHARS)


class ReassignIn(BaseModel):
    to: str = Field(min_length=3, max_length=254)


class PromiseIn(BaseModel):
    amount: str
    date: date

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: str) -> str:
        try:
            if Decimal(value) <= 0:
                raise ValueError
        except (InvalidOperation, ValueError) as exc:
            raise ValueError("amount must be a positive number") from exc
        return value


class PlanIn(BaseModel):
    installments: int = Field(ge=1, le=60)
    first_date: date


class ClaimDecisionIn(BaseModel):
    confirm: bool


class ProposalDecisionIn(BaseModel):
    accept: bool
    first_date: date | None = None  # for an offer that came without one


class DisputeIn(BaseModel):
    resume: bool


# -- queue ----------------------------------------------------------------------------------------


@api.get("/queue")
async def get_queue(user: AgentApi, factory: SessionFactoryDep, clock: ClockDep) -> list[dict[str, Any]]:
    return await in_transaction(factory, lambda s: console.queue(s, now=clock()))


@api.post("/handoffs/{handoff_id}/claim", dependencies=[Csrf])
async def claim_handoff(handoff_id: int, user: AgentApi, factory: SessionFactoryDep, clock: ClockDep) -> dict:
    handoff = await in_transaction(factory, lambda s: console.claim(s, handoff_id, user, now=clock()))
    return {"id": handoff.id, "status": handoff.status, "assigned_to": handoff.assigned_to}


@api.post("/handoffs/{handoff_id}/release", dependencies=[Csrf])
async def release_handoff(handoff_id: int, user: AgentApi, factory: SessionFactoryDep) -> dict:
    handoff = await in_transaction(factory, lambda s: console.release(s, handoff_id, user))
    return {"id": handoff.id, "status": handoff.status, "assigned_to": handoff.assigned_to}


@api.post("/handoffs/{handoff_id}/reassign", dependencies=[Csrf])
async def reassign_handoff(
    handoff_id: int, body: ReassignIn, user: AdminApi, factory: SessionFactoryDep, clock: ClockDep
) -> dict:
    handoff = await in_transaction(factory, lambda s: console.reassign(s, handoff_id, user, body.to, now=clock()))
    return {"id": handoff.id, "status": handoff.status, "assigned_to": handoff.assigned_to}


# -- a conversation -------------------------------------------------------------------------------


@api.get("/conversations/{conversation_id}")
async def get_conversation(conversation_id: int, user: AgentApi, factory: SessionFactoryDep, clock: ClockDep) -> dict:
    return await in_transaction(factory, lambda s: console.conversation_view(s, conversation_id, user, now=clock()))


@api.get("/conversations/{conversation_id}/canned")
async def get_canned(
    conversation_id: int, user: AgentApi, factory: SessionFactoryDep, settings: SettingsDep
) -> list[dict[str, str]]:
    return await in_transaction(factory, lambda s: console.canned_replies(s, conversation_id, user, settings=settings))


@api.post("/conversations/{conversation_id}/reply", dependencies=[Csrf], status_code=201)
async def post_reply(
    conversation_id: int,
    body: ReplyIn,
    request: Request,
    user: AgentApi,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> dict:
    queued = await in_transaction(
        factory,
        lambda s: console.reply(
            s, conversation_id, user, text=body.text, template=body.template, settings=settings, now=clock()
        ),
    )
    request.app.state.channels.outbox.submit([queued.message_id], conversation_id=queued.conversation_id)
    return {"message_id": queued.message_id}


@api.post("/conversations/{conversation_id}/notes", dependencies=[Csrf], status_code=201)
async def post_note(conversation_id: int, body: NoteIn, user: AgentApi, factory: SessionFactoryDep) -> dict:
    note = await in_transaction(factory, lambda s: console.add_note(s, conversation_id, user, body.text))
    return {"id": note.id}


@api.post("/conversations/{conversation_id}/promise", dependencies=[Csrf], status_code=201)
async def post_promise(
    conversation_id: int,
    body: PromiseIn,
    user: AgentApi,
    factory: SessionFactoryDep,
    clock: ClockDep,
) -> dict:
    promise = await in_transaction(
        factory,
        lambda s: console.agent_promise(
            s,
            conversation_id,
            user,
            amount=Decimal(body.amount),
            promised_date=body.date,
            now=clock(),
        ),
    )
    return {"id": promise.id, "amount": str(promise.amount), "date": promise.promised_date.isoformat()}


@api.post("/conversations/{conversation_id}/plan", dependencies=[Csrf], status_code=201)
async def post_plan(
    conversation_id: int,
    body: PlanIn,
    user: AgentApi,
    factory: SessionFactoryDep,
    clock: ClockDep,
) -> dict:
    plan = await in_transaction(
        factory,
        lambda s: {
            "id": (
                p := console.agent_plan(
                    s,
                    conversation_id,
                    user,
                    count=body.installments,
                    first_date=body.first_date,
                    now=clock(),
                )
            ).id,
            "installments": [{"date": i.due_date.isoformat(), "amount": str(i.amount)} for i in p.installments],
        },
    )
    return plan


@api.post("/conversations/{conversation_id}/claims/{claim_id}", dependencies=[Csrf])
async def post_claim_decision(
    conversation_id: int,
    claim_id: int,
    body: ClaimDecisionIn,
    user: AgentApi,
    factory: SessionFactoryDep,
    clock: ClockDep,
) -> dict:
    claim = await in_transaction(
        factory,
        lambda s: console.decide_claim(s, conversation_id, user, claim_id, confirm=body.confirm, now=clock()),
    )
    return {"id": claim.id, "status": claim.status}


@api.post("/conversations/{conversation_id}/proposals/{proposal_id}", dependencies=[Csrf])
async def post_proposal_decision(
    conversation_id: int,
    proposal_id: int,
    body: ProposalDecisionIn,
    user: AgentApi,
    factory: SessionFactoryDep,
    clock: ClockDep,
) -> dict:
    proposal = await in_transaction(
        factory,
        lambda s: console.decide_proposal(
            s, conversation_id, user, proposal_id, accept=body.accept, first_date=body.first_date, now=clock()
        ),
    )
    return {"id": proposal.id, "status": proposal.status}


@api.post("/conversations/{conversation_id}/dispute", dependencies=[Csrf])
async def post_dispute(conversation_id: int, body: DisputeIn, user: AgentApi, factory: SessionFactoryDep) -> dict:
    account = await in_transaction(
        factory, lambda s: console.resolve_dispute(s, conversation_id, user, resume=body.resume)
    )
    return {"account": account.ref, "status": account.status}


@api.post("/conversations/{conversation_id}/resolve", dependencies=[Csrf])
async def post_resolve(
    conversation_id: int,
    request: Request,
    user: AgentApi,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> dict:
    resolution = await in_transaction(
        factory,
        lambda s: console.resolve(s, conversation_id, user, now=clock(), company_name=settings.company_name),
    )
    request.app.state.channels.outbox.submit([resolution.notice_id], conversation_id=resolution.conversation_id)
    recorded = True
    try:
        await request.app.state.rasa.append_events(resolution.rasa_sender, resolution.agent_turns)
    except DialogueUnavailableError:
        recorded = False  # the conversation is back with the bot either way; the bot just lacks the context
    return {"status": "bot", "agent_turns": len(resolution.agent_turns), "recorded_in_dialogue": recorded}


# -- live updates ---------------------------------------------------------------------------------


def _stamp(factory: Any, conversation_id: int | None) -> str:
    """A short digest of what the console shows; it changes whenever something visible changed."""
    with factory() as session:
        handoffs = session.execute(
            select(Handoff.id, Handoff.status, Handoff.assigned_to)
            .where(Handoff.status.in_(console.OPEN))
            .order_by(Handoff.id)
        ).all()
        messages: list[Any] = []
        if conversation_id is not None:
            messages = session.execute(
                select(Message.id, Message.delivery_status)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id)
            ).all()
    state = json.dumps([[list(h) for h in handoffs], [list(m) for m in messages]], default=str)
    return hashlib.sha256(state.encode()).hexdigest()[:16]


@api.get("/events")
async def events(
    request: Request,
    user: AgentApi,
    factory: SessionFactoryDep,
    conversation_id: Annotated[int | None, Query()] = None,
    interval: Annotated[float, Query(ge=0.2, le=10)] = 1.0,
) -> StreamingResponse:
    """Server-sent events: ``changed`` whenever the queue or the given conversation changed (one the
    user may open: else 404, checked once before the stream starts)."""
    if conversation_id is not None:
        await in_transaction(factory, lambda s: console.open_conversation(s, conversation_id, user))

    async def stream() -> AsyncIterator[str]:
        last = None
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            stamp = await to_thread.run_sync(_stamp, factory, conversation_id)
            if stamp != last:
                last = stamp
                yield f"event: changed\ndata: {stamp}\n\n"
            await asyncio.sleep(interval)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


# -- pages ----------------------------------------------------------------------------------------


def _page(name: str, request: Request, user: Any, **context: Any) -> HTMLResponse:
    html = _templates.get_template(name).render(
        user=user, csrf=session_csrf(request), csp_nonce=csp_nonce(request), **context
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/console", response_class=HTMLResponse)
async def queue_page(request: Request, user: AgentPage) -> HTMLResponse:
    return _page("console_queue.html", request, user)


@router.get("/console/conversations/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(
    conversation_id: int, request: Request, user: AgentPage, factory: SessionFactoryDep
) -> HTMLResponse:
    try:
        await in_transaction(factory, lambda s: console.open_conversation(s, conversation_id, user))
    except NotFoundError:
        return HTMLResponse(_NOT_FOUND_PAGE, status_code=404, headers={"Cache-Control": "no-store"})
    return _page("console_conversation.html", request, user, conversation_id=conversation_id)
