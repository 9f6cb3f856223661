"""A local fake of the Telegram Bot API that records calls and can be scripted to fail."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes._server import ThreadedServer


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    error_code: int
    parameters: dict[str, Any] | None
    times: int


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value


class FakeBotAPI:
    BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Tagih", "username": "tagih_test_bot"}

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1000)
        app = FastAPI()

        @app.post("/bot{token}/{method}")
        async def call(token: str, method: str, request: Request) -> JSONResponse:
            if request.headers.get("content-type", "").startswith("application/json"):
                params = await request.json()
            else:
                form = await request.form()
                params = {k: _decode(v) for k, v in form.items() if isinstance(v, str)}
            with self._lock:
                failure = next((f for f in self._failures if f.method == method), None)
                if failure is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                else:
                    self.calls.append({"method": method, "params": params})
            if failure is not None:
                body: dict[str, Any] = {
                    "ok": False,
                    "error_code": failure.error_code,
                    "description": failure.description,
                }
                if failure.parameters:
                    body["parameters"] = failure.parameters
                return JSONResponse(body, status_code=failure.status)
            return JSONResponse({"ok": True, "result": await self._result(method, params)})

        self._server = ThreadedServer(app)

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return self.BOT_USER
        if method == "sendMessage":
            return {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": self.BOT_USER,
                "text": params.get("text", ""),
            }
        if method == "getUpdates":
            with self._lock:
                updates, self.updates = self.updates, []
            if not updates:
                await asyncio.sleep(0.2)  # stands in for long polling
            offset = params.get("offset")
            return [u for u in updates if offset is None or u["update_id"] >= int(offset)]
        return True  # answerCallbackQuery, setWebhook, deleteWebhook, ...

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}/bot"

    def queue_update(self, update: dict[str, Any]) -> None:
        with self._lock:
            self.updates.append(update)

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        error_code: int,
        parameters: dict[str, Any] | None = None,
        times: int = 1,
    ) -> None:
        with self._lock:
            self._failures.append(_Failure(method, status, description, error_code, parameters, times))

    def __enter__(self) -> FakeBotAPI:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
