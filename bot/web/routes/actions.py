"""The custom-action webhook Rasa calls (rasa_sdk's executor, served inside the app)."""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

from bot.dialogue.responses import UnknownResponseError
from bot.settings import Settings
from bot.web.deps import ExecutorDep, SettingsDep

router = APIRouter(prefix="/actions", tags=["rasa actions"], include_in_schema=False)


def _check_token(request: Request, expected: str | None) -> None:
    """Only the Rasa server may run actions: a forged tracker could otherwise read any account."""
    given = request.query_params.get("token", "")
    if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, "missing or wrong action token")


async def _rasa_call(request: Request, settings: Settings) -> Any:
    """The JSON body of a call from the Rasa server, once its action token is checked."""
    _check_token(request, settings.action_token.get_secret_value() if settings.action_token else None)
    try:
        return json.loads(await request.body())
    except json.JSONDecodeError as exc:
        raise HTTPException(400, f"invalid JSON: {exc}") from exc


@router.post("/webhook")
async def run_action(request: Request, executor: ExecutorDep, settings: SettingsDep) -> Any:
    call = await _rasa_call(request, settings)
    if not isinstance(call, dict) or not call.get("next_action"):
        raise HTTPException(400, "an action call needs 'next_action' and 'tracker'")
    try:
        # Actions use blocking database sessions, so they run in a worker thread.
        result = await asyncio.to_thread(asyncio.run, executor.run(call))
    except ActionExecutionRejection as exc:
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=400)
    except ActionNotFoundException as exc:
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=404)
    return result


@router.post("/nlg")
async def generate(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """Rasa's NLG endpoint: every response Rasa utters is rendered here from the newest flow
    version, so an admin's edit reaches the next turn without training a model."""
    call = await _rasa_call(request, settings)
    if not isinstance(call, dict) or not isinstance(call.get("response"), str):
        raise HTTPException(400, "an NLG call needs 'response' and 'tracker'")
    slots = ((call.get("tracker") or {}).get("slots")) or {}
    values = {**slots, **(call.get("arguments") or {})}
    language = slots.get("language") or settings.default_language
    responses = request.app.state.responses
    try:
        rendered = await asyncio.to_thread(responses.render_with, call["response"], language, values)
    except UnknownResponseError as exc:
        raise HTTPException(404, f"unknown response {call['response']}") from exc
    return {
        "text": rendered.get("text"),
        "buttons": rendered.get("buttons") or [],
        "image": None,
        "elements": [],
        "attachments": [],
        "custom": {},
    }


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
