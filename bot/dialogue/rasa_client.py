"""HTTP client for the Rasa server (the app never imports ``rasa``).

Model swaps (``PUT /model``): Rasa 3.6 loads the new model inside its event loop, so for the load
time (seconds for a small model, 30-40 s for ours) it answers nothing at all, then serves every
later turn with the new model; a failed load keeps the old one. A turn cut off by our timeout in
that window may still complete inside Rasa afterwards, so it must not be sent again (the debtor's
message would count twice). Hence :meth:`RasaClient.swap_model` closes a gate to new turns, waits
for the turns under way to finish, swaps, and opens the gate again; turns that arrive meanwhile
wait (up to ``swap_wait`` seconds) and then reach the new model. Failures that prove Rasa did not
take a request (connection refused, 409 no model loaded, 502/503/504 from a proxy) are retried for
up to ``retry_seconds``; timeouts after sending are not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

import httpx

from bot.errors import ConflictError, DialogueUnavailableError, TagihError

# Answers after which Rasa has certainly not processed the request.
RETRY_STATUSES = frozenset({409, 502, 503, 504})
# The token-checked input channel (nlu/connectors/tagih_channel.py); Rasa's open `rest` is off.
MESSAGE_PATH = "/webhooks/tagih/webhook"
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class ModelLoadError(TagihError):
    """Rasa refused to load a model; it keeps serving the one it had."""


def _path(sender: str) -> str:
    """A conversation id as a URL path segment. Rasa's server does not decode %-escapes in it, so
    the characters our ids use (``whatsapp:+62...``) stay literal and only the rest is escaped."""
    return quote(sender, safe=":+@-_.~")


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    return str(body.get("message") or body) if isinstance(body, dict) else str(body)[:300]


class _TurnGate:
    """Turns run side by side; a model swap runs alone (see the module docstring).

    All of it runs on one event loop, so the counter needs no lock: nothing awaits between checking
    the gate and counting the turn in.
    """

    def __init__(self) -> None:
        self._turns = 0
        self._open = asyncio.Event()
        self._open.set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def swapping(self) -> bool:
        return not self._open.is_set()

    @asynccontextmanager
    async def turn(self, wait: float) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not self._open.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise DialogueUnavailableError(f"a Rasa model swap has held this turn for more than {wait:.0f}s")
            try:
                await asyncio.wait_for(self._open.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        self._turns += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._turns -= 1
            if self._turns == 0:
                self._idle.set()

    @asynccontextmanager
    async def exclusive(self, drain: float) -> AsyncIterator[None]:
        if self.swapping:
            raise ConflictError("another model swap is in progress")
        self._open.clear()
        try:
            try:
                await asyncio.wait_for(self._idle.wait(), drain)
            except asyncio.TimeoutError:
                raise DialogueUnavailableError(
                    f"{self._turns} conversation turn(s) still running after {drain:.0f}s; the model was not swapped"
                ) from None
            yield
        finally:
            self._open.set()


class RasaClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        client: httpx.AsyncClient | None = None,
        retry_seconds: float | None = None,
        swap_wait: float = 120.0,
    ):
        # The Rasa HTTP API takes the token as ?token=, the input channel as a bearer token.
        self._client = client or httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
            params={"token": token} if token else None,
            headers={"Authorization": f"Bearer {token}"} if token else None,
        )
        self._retry_seconds = min(timeout, 15.0) if retry_seconds is None else retry_seconds
        self._swap_wait = swap_wait
        self._gate = _TurnGate()

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def swapping(self) -> bool:
        """A model swap is under way; turns wait for it."""
        return self._gate.swapping

    async def send_message(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Run one user turn through Rasa's REST channel and return the bot's replies."""
        return await self._post(MESSAGE_PATH, {"sender": sender, "message": text})

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

    async def swap_model(
        self, model_file: str, *, load_timeout: float = 600.0, drain_timeout: float = 60.0
    ) -> dict[str, Any]:
        """Make Rasa serve ``model_file`` (a path the Rasa server can read); returns its ``/status``
        afterwards. Raises :class:`ModelLoadError` when Rasa refuses the file (it keeps the old model)
        and :class:`DialogueUnavailableError` when it cannot be reached or does not confirm in time."""
        async with self._gate.exclusive(drain_timeout):
            try:
                response = await self._client.put("/model", json={"model_file": model_file}, timeout=load_timeout)
            except httpx.TimeoutException as exc:
                raise DialogueUnavailableError(
                    f"Rasa did not confirm loading {PurePath(model_file).name} within {load_timeout:.0f}s"
                ) from exc
            except httpx.HTTPError as exc:
                raise DialogueUnavailableError(f"Rasa server unreachable: {exc!r}") from exc
            if response.status_code != 204:
                raise ModelLoadError(
                    f"Rasa could not load {PurePath(model_file).name} ({response.status_code}): {_reason(response)}"
                )
            try:
                return await self.status()
            except DialogueUnavailableError:  # loaded (204): only the confirmation is missing
                return {"model_file": PurePath(model_file).name}

    async def _post(self, path: str, body: Any) -> Any:
        async with self._gate.turn(self._swap_wait):
            return await self._send(path, body)

    async def _send(self, path: str, body: Any) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry_seconds
        delay = 0.2
        while True:
            try:
                response = await self._client.post(path, json=body)
            except _NOT_SENT as exc:
                failure = DialogueUnavailableError(f"Rasa server unreachable: {exc!r}")
            except httpx.HTTPError as exc:  # sent, maybe processed: never sent twice
                raise DialogueUnavailableError(f"Rasa server unreachable: {exc!r}") from exc
            else:
                if response.status_code < 400:
                    return response.json()
                failure = DialogueUnavailableError(
                    f"Rasa server answered {response.status_code}: {response.text[:200]}"
                )
                if response.status_code not in RETRY_STATUSES:
                    raise failure
            if loop.time() + delay > deadline:
                raise failure
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
