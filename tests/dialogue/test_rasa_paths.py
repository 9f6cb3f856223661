"""Conversation ids reach Rasa's HTTP API as the same conversation the REST channel uses."""

from __future__ import annotations

import httpx
import pytest

from bot.dialogue.rasa_client import RasaClient
from tests.support import TEST_RASA_TOKEN

pytestmark = pytest.mark.rasa


@pytest.mark.parametrize("sender", ["whatsapp:+6281234500001", "telegram:987654321", "web:test-path-probe"])
async def test_events_land_in_the_conversation_the_channel_uses(live_stack, sender):
    client = RasaClient(live_stack.rasa_url, token=TEST_RASA_TOKEN)
    try:
        await client.set_slots(sender, {"language": "en"})
        await client.append_events(sender, [{"event": "bot", "text": f"agent note for {sender}"}])
    finally:
        await client.aclose()
    async with httpx.AsyncClient(timeout=10) as http:
        tracker = (
            await http.get(f"{live_stack.rasa_url}/conversations/{sender}/tracker", params={"token": TEST_RASA_TOKEN})
        ).json()
    assert tracker["sender_id"] == sender and tracker["slots"]["language"] == "en"
    assert f"agent note for {sender}" in [e.get("text") for e in tracker["events"] if e["event"] == "bot"]
