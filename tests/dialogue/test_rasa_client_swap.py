"""The Rasa client during model swaps and short outages: no turn fails, none is sent twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from bot.dialogue.rasa_client import ModelLoadError, RasaClient
from bot.errors import ConflictError, DialogueUnavailableError
from tests.fakes.rasa_http import FakeRasaServer
from tests.support import free_port


@pytest.fixture
def rasa() -> Iterator[FakeRasaServer]:
    with FakeRasaServer() as fake:
        yield fake


def turns(fake: FakeRasaServer, kind: str) -> list[str]:
    return [event.detail for event in fake.events if event.kind == kind]


async def test_a_swap_waits_for_turns_under_way_and_holds_new_ones_until_the_model_is_loaded(rasa):
    rasa.turn_seconds, rasa.load_seconds = 0.5, 1.0
    client = RasaClient(rasa.base_url, timeout=5)
    try:
        in_flight = asyncio.create_task(client.send_message("a", "before"))
        await asyncio.sleep(0.2)
        swap = asyncio.create_task(client.swap_model("/models/tagih-new.tar.gz"))
        await asyncio.sleep(0.1)
        assert client.swapping
        during = [asyncio.create_task(client.send_message(f"d{i}", f"during {i}")) for i in range(5)]
        status = await swap
        replies = await asyncio.gather(in_flight, *during)
    finally:
        await client.aclose()
    assert status["model_file"] == "tagih-new.tar.gz" and not client.swapping
    assert replies[0] == [{"recipient_id": "a", "text": "before via tagih-initial.tar.gz"}]
    assert all(reply[0]["text"].endswith("via tagih-new.tar.gz") for reply in replies[1:])
    # The load started only after the turn under way had ended, and no turn overlapped the load.
    order = [(e.kind, e.detail) for e in rasa.events]
    assert order.index(("turn-end", "before")) < order.index(("load-start", "/models/tagih-new.tar.gz"))
    load_end = order.index(("load-end", "/models/tagih-new.tar.gz"))
    assert all(order.index(("turn-start", f"during {i}")) > load_end for i in range(5))
    assert sorted(turns(rasa, "turn-start")) == sorted(["before"] + [f"during {i}" for i in range(5)]), "once each"


async def test_a_refused_model_keeps_the_old_one_and_reopens_the_gate(rasa):
    rasa.refuse.add("tagih-broken.tar.gz")
    client = RasaClient(rasa.base_url, timeout=5)
    try:
        with pytest.raises(ModelLoadError, match="could not be loaded"):
            await client.swap_model("/models/tagih-broken.tar.gz")
        assert not client.swapping
        assert (await client.send_message("a", "after"))[0]["text"] == "after via tagih-initial.tar.gz"
    finally:
        await client.aclose()


async def test_a_swap_gives_up_when_turns_do_not_finish_and_sends_nothing(rasa):
    rasa.turn_seconds = 2.0
    client = RasaClient(rasa.base_url, timeout=5)
    try:
        slow = asyncio.create_task(client.send_message("a", "slow"))
        await asyncio.sleep(0.2)
        with pytest.raises(DialogueUnavailableError, match="still running"):
            await client.swap_model("/models/tagih-new.tar.gz", drain_timeout=0.5)
        assert (await slow)[0]["text"] == "slow via tagih-initial.tar.gz"
    finally:
        await client.aclose()
    assert turns(rasa, "load-start") == []


async def test_one_swap_at_a_time(rasa):
    rasa.load_seconds = 0.5
    client = RasaClient(rasa.base_url, timeout=5)
    try:
        first = asyncio.create_task(client.swap_model("/models/tagih-a.tar.gz"))
        await asyncio.sleep(0.1)
        with pytest.raises(ConflictError):
            await client.swap_model("/models/tagih-b.tar.gz")
        await first
    finally:
        await client.aclose()
    assert rasa.loaded == ["/models/tagih-a.tar.gz"]


async def test_a_turn_held_longer_than_swap_wait_fails_cleanly(rasa):
    rasa.load_seconds = 1.5
    client = RasaClient(rasa.base_url, timeout=5, swap_wait=0.3)
    try:
        swap = asyncio.create_task(client.swap_model("/models/tagih-new.tar.gz"))
        await asyncio.sleep(0.1)
        with pytest.raises(DialogueUnavailableError, match="model swap"):
            await client.send_message("a", "impatient")
        await swap
    finally:
        await client.aclose()
    assert "impatient" not in turns(rasa, "turn-start")


@pytest.mark.parametrize("status", [409, 503])
async def test_answers_that_prove_rasa_did_not_take_the_turn_are_retried(rasa, status):
    rasa.fail_next, rasa.fail_status = 2, status
    client = RasaClient(rasa.base_url, timeout=5)
    try:
        assert (await client.send_message("a", "halo"))[0]["text"] == "halo via tagih-initial.tar.gz"
        assert await client.trigger_intent("a", "EXTERNAL_reminder", {}) == [{"recipient_id": "a", "text": "reminder"}]
    finally:
        await client.aclose()
    assert turns(rasa, "turn-start") == ["halo"]


async def test_retries_are_bounded(rasa):
    rasa.fail_next, rasa.fail_status = 1000, 503
    client = RasaClient(rasa.base_url, timeout=5, retry_seconds=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(DialogueUnavailableError, match="503"):
            await client.send_message("a", "halo")
    finally:
        await client.aclose()
    assert 0.5 < time.monotonic() - started < 3


async def test_other_errors_are_not_retried(rasa):
    rasa.fail_next, rasa.fail_status = 1, 500
    client = RasaClient(rasa.base_url, timeout=5)
    try:
        with pytest.raises(DialogueUnavailableError, match="500"):
            await client.send_message("a", "halo")
    finally:
        await client.aclose()
    assert rasa.fail_next == 0 and turns(rasa, "turn-start") == []


async def test_a_refused_connection_is_retried_for_a_bounded_time():
    client = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=5, retry_seconds=0.8)
    started = time.monotonic()
    try:
        with pytest.raises(DialogueUnavailableError, match="unreachable"):
            await client.send_message("a", "halo")
    finally:
        await client.aclose()
    assert 0.5 < time.monotonic() - started < 3
