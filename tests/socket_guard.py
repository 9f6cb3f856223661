"""Tests reach only servers they started themselves: a connection to the default ports of a bot the
developer may be running (the app on 8000, Rasa on 5005), or to anything off this machine, is refused
before it leaves the process. Installed for the whole session by ``tests/conftest.py``.

Servers started by tests listen on free ports (``tests.support.free_port``); PostgreSQL and Redis of
the scaled-deployment tests are local services, so loopback stays open.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from bot.settings import Settings

# the defaults of TAGIH_PORT and TAGIH_RASA_PORT: where a running bot answers
GUARDED_PORTS = frozenset({Settings.model_fields["port"].default, Settings.model_fields["rasa_port"].default})


class BlockedConnection(ConnectionRefusedError):
    """A test tried to reach a server it did not start."""


def refusal(address: Any) -> str | None:
    """Why a connection to ``address`` is refused in tests, or None when it may go ahead."""
    if not (isinstance(address, tuple) and len(address) >= 2):
        return None  # Unix sockets and the like
    host, port = str(address[0]), address[1]
    try:
        local = ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        local = host == "localhost"
    if not local:
        return f"tests do not reach other machines ({host}:{port})"
    if port in GUARDED_PORTS:
        return f"tests never reach port {port}, where a running bot answers: start a server on a free port"
    return None


def install() -> None:
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        reason = refusal(address)
        if reason:
            raise BlockedConnection(reason)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        reason = refusal(address)
        if reason:
            raise BlockedConnection(reason)
        return original_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
