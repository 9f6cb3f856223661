"""A local fake of the Rasa server's HTTP API for model swaps: ``/status``, ``PUT /model`` and the
REST channel.

Like Rasa 3.6, ``PUT /model`` loads synchronously inside the server's event loop: for
``load_seconds`` the fake answers nothing at all, then serves with the new model. A model whose
file name is in ``refuse`` is answered as Rasa answers an unloadable file (400) and the old model
stays. ``turn_seconds`` keeps each turn in flight that long; ``fail_next`` answers that many
requests with ``fail_status`` first.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes._server import ThreadedServer


@dataclass
class Event:
    kind: str  # "turn-start", "turn-end", "load-start", "load-end"
    detail: str
    at: float = field(default_factory=time.monotonic)


class FakeRasaServer:
    def __init__(self, model_file: str = "tagih-initial.tar.gz") -> None:
        self.model_file = model_file
        self.load_seconds = 0.0
        self.turn_seconds = 0.0
        self.refuse: set[str] = set()
        self.fail_next = 0
        self.fail_status = 503
        self.events: list[Event] = []
        self.loaded: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadedServer(self._build())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    def __enter__(self) -> FakeRasaServer:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def _failure(self) -> Response | None:
        with self._lock:
            if self.fail_next <= 0:
                return None
            self.fail_next -= 1
        return JSONResponse({"status": "failure", "message": "No agent loaded."}, status_code=self.fail_status)

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/status")
        async def status() -> Any:
            return {"model_file": self.model_file, "model_id": "fake", "num_active_training_jobs": 0}

        @app.put("/model")
        async def load(request: Request) -> Any:
            body = await request.json()
            path = str(body.get("model_file", ""))
            self.events.append(Event("load-start", path))
            time.sleep(self.load_seconds)  # noqa: ASYNC251 - blocks the event loop, as Rasa's loading does
            self.events.append(Event("load-end", path))
            name = PurePath(path).name
            if name in self.refuse:
                return JSONResponse(
                    {
                        "status": "failure",
                        "reason": "BadRequest",
                        "message": f"Agent with name '{path}' could not be loaded.",
                    },
                    status_code=400,
                )
            self.model_file = name
            self.loaded.append(path)
            return Response(status_code=204)

        @app.post("/webhooks/tagih/webhook")
        async def turn(request: Request) -> Any:
            failure = self._failure()
            if failure is not None:
                return failure
            body = await request.json()
            model = self.model_file
            self.events.append(Event("turn-start", body["message"]))
            await asyncio.sleep(self.turn_seconds)
            self.events.append(Event("turn-end", body["message"]))
            return [{"recipient_id": body["sender"], "text": f"{body['message']} via {model}"}]

        @app.post("/conversations/{sender}/trigger_intent")
        async def trigger(sender: str, request: Request) -> Any:
            failure = self._failure()
            if failure is not None:
                return failure
            return {"messages": [{"recipient_id": sender, "text": "reminder"}]}

        return app
