"""The socket guard keeps tests away from a bot the developer runs and from other machines."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.socket_guard import BlockedConnection, refusal
from tests.support import AppServer, free_port


@pytest.mark.parametrize("port", [8000, 5005])
def test_the_default_ports_of_a_running_bot_are_never_reached(port):
    with socket.socket() as sock, pytest.raises(BlockedConnection, match=f"port {port}"):
        sock.connect(("127.0.0.1", port))
    with pytest.raises(httpx.ConnectError, match="running bot"):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)


def test_other_machines_are_not_reached():
    assert "other machines" in refusal(("93.184.216.34", 443))
    assert "other machines" in refusal(("2606:2800:220:1::", 443, 0, 0))
    assert refusal(("::1", 6379, 0, 0)) is None and refusal(("127.0.0.2", 5432)) is None


def test_a_server_the_test_started_is_reached():
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    port = free_port()
    with AppServer(app, port) as server:
        assert httpx.get(f"{server.url}/ping", timeout=5).json() == {"pong": "yes"}
