"""A local fake of the WhatsApp Cloud API (Graph API) that records what it is sent.

Tests script failures with ``fail_next`` (500, 429, error codes such as 131047).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes._server import ThreadedServer


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] | None
    times: int


class FakeGraphAPI:
    def __init__(self, version: str = "v21.0") -> None:
        self.version = version
        self.requests: list[dict[str, Any]] = []
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        app = FastAPI()

        @app.post("/{version}/{phone_number_id}/messages")
        async def messages(version: str, phone_number_id: str, request: Request) -> JSONResponse:
            body = await request.json()
            with self._lock:
                failure = self._failures[0] if self._failures else None
                if failure is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.pop(0)
                else:
                    self.requests.append({"path": request.url.path, "headers": dict(request.headers), "json": body})
            if failure is not None:
                return JSONResponse(failure.body, status_code=failure.status, headers=failure.headers)
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                    "messages": [{"id": f"wamid.{uuid.uuid4().hex}"}],
                }
            )

        self._server = ThreadedServer(app)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}/{self.version}"

    def fail_next(
        self, status: int, error_json: dict[str, Any], headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        """The next ``times`` sends get this answer instead of success (they are not recorded)."""
        with self._lock:
            self._failures.append(_Failure(status, error_json, headers, times))

    def __enter__(self) -> FakeGraphAPI:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
