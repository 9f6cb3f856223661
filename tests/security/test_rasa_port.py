"""Finding 2: nothing on the Rasa port gives data or a bot turn without the secret, Rasa listens on
loopback only, and the secret is not on its command line. Against the real Rasa server."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from bot.dialogue.rasa_client import MESSAGE_PATH
from tests.support import TEST_RASA_TOKEN

pytestmark = pytest.mark.rasa

SENDER = "whatsapp:+6281234567801"  # the id the app gives a verified WhatsApp conversation


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/conversations/{SENDER}/tracker", None),
        ("POST", f"/conversations/{SENDER}/tracker/events", [{"event": "slot", "name": "verified", "value": True}]),
        ("POST", f"/conversations/{SENDER}/trigger_intent", {"name": "ask_balance"}),
        ("POST", f"/conversations/{SENDER}/messages", {"text": "berapa tagihan saya", "sender": "user"}),
        ("POST", "/model/parse", {"text": "berapa tagihan saya"}),
        ("GET", "/status", None),
        ("GET", "/domain", None),
        ("PUT", "/model", {"model_file": "/tmp/x.tar.gz"}),
    ],
)
def test_the_http_api_refuses_without_the_token(live_stack, method, path, body):
    for params in ({}, {"token": "wrong"}, {"token": ""}):
        response = httpx.request(method, f"{live_stack.rasa_url}{path}", params=params, json=body, timeout=30)
        assert response.status_code == 401, (path, params, response.text[:200])


def test_the_http_api_answers_the_app(live_stack):
    response = httpx.get(f"{live_stack.rasa_url}/status", params={"token": TEST_RASA_TOKEN}, timeout=30)
    assert response.status_code == 200 and response.json()["model_file"]


def test_rasas_open_rest_channel_is_gone(live_stack):
    response = httpx.post(
        f"{live_stack.rasa_url}/webhooks/rest/webhook", json={"sender": SENDER, "message": "berapa tagihan saya"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TEST_RASA_TOKEN}", f"Bearer {TEST_RASA_TOKEN}x", "Bearer"]
)
def test_the_message_channel_refuses_without_the_token(live_stack, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for path in (MESSAGE_PATH, MESSAGE_PATH.rsplit("/", 1)[0] + "/"):
        response = httpx.post(
            f"{live_stack.rasa_url}{path}",
            json={"sender": SENDER, "message": "berapa tagihan saya"},
            headers=headers,
            timeout=30,
        )
        assert response.status_code in (401, 405), (path, response.status_code)
    response = httpx.post(
        f"{live_stack.rasa_url}{MESSAGE_PATH}", json={"sender": SENDER, "message": "halo"}, headers=headers, timeout=30
    )
    assert response.status_code == 401 and "token" in response.text


def test_the_message_channel_answers_the_app(live_stack, sender):
    response = httpx.post(
        f"{live_stack.rasa_url}{MESSAGE_PATH}",
        json={"sender": f"web:{sender}", "message": "halo"},
        headers={"Authorization": f"Bearer {TEST_RASA_TOKEN}"},
        timeout=60,
    )
    assert response.status_code == 200 and response.json()


def _outside_address() -> str | None:
    """This machine's address on its first non-loopback interface, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, only a route is chosen
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_rasa_listens_on_loopback_only(live_stack):
    port = int(live_stack.rasa_url.rsplit(":", 1)[1])
    address = _outside_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to try")
    with socket.socket() as sock:
        sock.settimeout(2)
        assert sock.connect_ex((address, port)) != 0


def test_the_token_is_not_on_rasas_command_line(live_stack):
    assert live_stack.rasa_pid is not None
    command_line = Path(f"/proc/{live_stack.rasa_pid}/cmdline").read_bytes().split(b"\0")
    assert TEST_RASA_TOKEN.encode() not in b" ".join(command_line)
    assert b"--auth-token" not in command_line
