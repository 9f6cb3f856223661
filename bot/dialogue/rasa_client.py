"""HTTP client for the Rasa server (the app never imports ``rasa``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bot.errors import DialogueUnavailableError


def _path(sender: str) -> str:
    """A conversation id as a URL path segment. Rasa's server does not decode %-escapes in it, so
    the characters our ids use (``whatsapp:+62...``) stay literal and only the rest is escaped."""
    return quote(sender, safe=":+@-_.~")


class RasaClient:
    def __init__(self, base_url: str, *, timeout: float = 30.0, client: httpx.AsyncClient | None = None):
        self._client = client or httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send_message(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Run one user turn through Rasa's REST channel and return the bot's replies."""
        return await self._post("/webhooks/rest/webhook", {"sender": sender, "message": text})

    async def set_slots(self, sender: str, slots: dict[str, Any]) -> None:
        """Tell a running Rasa conversation what the app learned (e.g. the sender was verified)."""
        events = [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
        await self._post(f"/conversations/{_path(sender)}/tracker/events", events)

    async def append_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        """Add events to a conversation's tracker (e.g. what an agent said while the bot was silent)."""
        if events:
            await self._post(f"/conversations/{_path(sender)}/tracker/events", events)

    async def trigger_intent(self, sender: str, intent: str, entities: dict[str, Any]) -> list[dict[str, Any]]:
        """Inject an external event (e.g. a reminder was sent); returns the bot's messages."""
        body = await self._post(
            f"/conversations/{_path(sender)}/trigger_intent",
            {"name": intent, "entities": entities},
        )
        return list((body or {}).get("messages") or [])

    async def status(self) -> dict[str, Any]:
        try:
            response = await self._client.get("/status")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise DialogueUnavailableError(f"Rasa server not ready: {exc}") from exc
        return response.json()

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            response = await self._client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise DialogueUnavailableError(f"Rasa server unreachable: {exc!r}") from exc
        if response.status_code >= 400:
            raise DialogueUnavailableError(f"Rasa server answered {response.status_code}: {response.text[:200]}")
        return response.json()
