"""WhatsApp Cloud API and Telegram webhooks: verify -> parse -> persist -> acknowledge; the
messages are processed in the background.

Only verification can refuse a delivery (401/403, nothing stored). Once the platform has proved it
sent the body, the body is acknowledged with 200 whatever it holds: what can never be processed is
stored in ``inbound_rejections`` with the reason, because any other answer makes the platform
send the same body again, for days (docs/channels.md, "Hostile input").
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from bot.messaging.runtime import ChannelRuntime
from channels.base import Channel, ProofMissingError, VerificationError

router = APIRouter(tags=["channels"])


def get_runtime(request: Request) -> ChannelRuntime:
    return request.app.state.channels


RuntimeDep = Annotated[ChannelRuntime, Depends(get_runtime)]


def _adapter(runtime: ChannelRuntime, name: str) -> Channel:
    adapter = runtime.channels.get(name)
    if adapter is None:
        raise HTTPException(404, f"the {name} channel is not configured on this server")
    return adapter


async def _receive(request: Request, runtime: ChannelRuntime, name: str, *, missing_status: int) -> dict[str, Any]:
    adapter = _adapter(runtime, name)
    body = await request.body()
    try:
        adapter.verify(request.headers, body)
    except VerificationError as exc:
        status = missing_status if isinstance(exc, ProofMissingError) else 403
        raise HTTPException(status, str(exc)) from exc
    stored = await runtime.receive(adapter, body)
    answer: dict[str, Any] = {"status": "ok", "accepted": len(stored.new_message_ids), "duplicates": stored.duplicates}
    if stored.rejection is not None:
        answer["status"] = "partly rejected" if stored.new_message_ids or stored.duplicates else "rejected"
        answer["reason"] = stored.rejection
    return answer


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse)
async def whatsapp_subscribe(
    runtime: RuntimeDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> str:
    """Meta's subscription handshake: echo the challenge when the verify token matches."""
    adapter = _adapter(runtime, "whatsapp")
    try:
        return adapter.verify_subscription(mode, token, challenge)  # type: ignore[attr-defined]
    except VerificationError as exc:
        raise HTTPException(403, str(exc)) from exc


@router.post("/webhooks/whatsapp")
async def whatsapp_webhook(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """Signed (X-Hub-Signature-256) deliveries of messages and delivery statuses."""
    return await _receive(request, runtime, "whatsapp", missing_status=401)


@router.post("/webhooks/telegram")
async def telegram_webhook(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """Updates from Telegram, authenticated by X-Telegram-Bot-Api-Secret-Token."""
    return await _receive(request, runtime, "telegram", missing_status=403)
