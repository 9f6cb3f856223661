"""The custom-action webhook Rasa calls (rasa_sdk's executor, served inside the app)."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

from bot.db.models import LANGUAGES
from bot.dialogue.responses import UnknownResponseError
from bot.settings import Settings
from bot.web.deps import ExecutorDep, SettingsDep
from channels.base import PayloadError, load_json

router = APIRouter(prefix="/actions", tags=["rasa actions"], include_in_schema=False)


def _check_token(request: Request, expected: str | None) -> None:
    """Only the Rasa server may run actions: a forged tracker could otherwise read any account."""
    given = request.query_params.get("token", "")
    if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, "missing or wrong action token")


async def _rasa_call(request: Request, settings: Settings) -> dict[str, Any]:
    """The JSON object of a call from the Rasa server, once its action token is checked. The
    token proves the caller, not the body: it is checked like any other input."""
    _check_token(request, settings.action_token.get_secret_value() if settings.action_token else None)
    try:
        call = load_json(await request.body())
    except PayloadError as exc:
        raise HTTPException(400, f"invalid request body: {exc}") from exc
    if not isinstance(call, dict):
        raise HTTPException(400, "a call from Rasa is a JSON object")
    return call


# Tracker fields rasa_sdk and the actions use without checking them: the type Rasa sends, and
# whether Rasa ever sends null there (``.get(key, {})`` only helps when the key is absent).
_TRACKER_FIELDS: dict[str, tuple[type, bool]] = {
    "slots": (dict, False),
    "latest_message": (dict, False),
    "events": (list, False),
    "active_loop": (dict, False),
    "active_form": (dict, False),
    "paused": (bool, True),
    "followup_action": (str, True),
    "latest_action_name": (str, True),
}
_MESSAGE_FIELDS: dict[str, tuple[type, bool]] = {"text": (str, True), "intent": (dict, True), "entities": (list, False)}


def _check_fields(value: dict[str, Any], fields: dict[str, tuple[type, bool]], where: str) -> None:
    for key, (kind, nullable) in fields.items():
        if key not in value or (value[key] is None and nullable):
            continue
        if not isinstance(value[key], kind):
            raise HTTPException(400, f"'{where}.{key}' must be {kind.__name__}")


def _check_action_call(call: dict[str, Any]) -> None:
    """400 unless the call has the shape rasa_sdk's executor assumes (it indexes and calls methods
    on whatever it gets, so a wrong type would surface as a 500 from deep inside an action)."""
    if not isinstance(call.get("next_action"), str) or not call["next_action"]:
        raise HTTPException(400, "an action call needs 'next_action' and 'tracker'")
    tracker = call.get("tracker")
    if not isinstance(tracker, dict) or not isinstance(tracker.get("sender_id"), str):
        raise HTTPException(400, "'tracker' must be an object with a 'sender_id' string")
    if call.get("domain") is not None and not isinstance(call["domain"], dict):
        raise HTTPException(400, "'domain' must be an object")
    _check_fields(tracker, _TRACKER_FIELDS, "tracker")
    if not all(isinstance(event, dict) for event in tracker.get("events") or []):
        raise HTTPException(400, "'tracker.events' must be a list of objects")
    message = tracker.get("latest_message") or {}
    _check_fields(message, _MESSAGE_FIELDS, "tracker.latest_message")
    intent = message.get("intent") or {}
    if intent.get("name") is not None and not isinstance(intent["name"], str):
        raise HTTPException(400, "'tracker.latest_message.intent.name' must be str")
    if not all(isinstance(entity, dict) for entity in message.get("entities") or []):
        raise HTTPException(400, "'tracker.latest_message.entities' must be a list of objects")
    language = (tracker.get("slots") or {}).get("language")
    if language is not None and language not in LANGUAGES:  # categorical: the actions format by it
        raise HTTPException(400, f"'tracker.slots.language' must be one of {', '.join(LANGUAGES)}")


@router.post("/webhook")
async def run_action(request: Request, executor: ExecutorDep, settings: SettingsDep) -> Any:
    call = await _rasa_call(request, settings)
    _check_action_call(call)
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
    if not isinstance(call.get("response"), str):
        raise HTTPException(400, "an NLG call needs 'response' and 'tracker'")
    tracker, arguments = call.get("tracker") or {}, call.get("arguments") or {}
    if not isinstance(tracker, dict) or not isinstance(arguments, dict):
        raise HTTPException(400, "'tracker' and 'arguments' must be objects")
    slots = tracker.get("slots") or {}
    if not isinstance(slots, dict):
        raise HTTPException(400, "'tracker.slots' must be an object")
    values = {**slots, **arguments}
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
