"""How long an agent's reply takes to appear on the debtor's open web chat page.

Starts the app (uvicorn, own process) and the Rasa server on the current model with a scratch
database. ``--pages`` debtors open /chat and ask for a person (real model, real handoff); an agent
logs in to the console API, claims every handoff and sends ``--replies`` replies to each, in turn.
For each reply it measures the time from sending the console request to the event arriving on the
debtor's live connection (server-sent events); then it hands every conversation back and measures
the handback notice the same way.

    .venv/bin/python -m bench.webchat_push [--pages 10] [--replies 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench._stack import percentile, running_stack
from bot.db.models import Conversation, Handoff
from bot.db.session import make_engine, make_session_factory, migrate
from bot.services.users import create_user
from bot.web.chat_session import COOKIE

AGENT, PASSWORD = "bench.agent@tagih.example", "bench agent password 1"


class Page:
    """One debtor's open /chat page: its cookie and the arrival time of each pushed message."""

    def __init__(self, url: str) -> None:
        self.client = httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(60, read=None))
        self.arrived: dict[str, float] = {}
        self.changed = asyncio.Event()  # set at every arrival
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        await self.client.get("/chat")
        answer = await self.client.post(
            "/chat/api/messages", json={"text": "saya mau bicara dengan petugas", "client_id": uuid.uuid4().hex}
        )
        answer.raise_for_status()
        ready = asyncio.Event()

        async def listen() -> None:
            async with self.client.stream("GET", "/chat/api/events") as response:
                ready.set()
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        event = json.loads(line.removeprefix("data: "))
                        self.arrived.setdefault(event["text"], time.perf_counter())
                        self.changed.set()

        self.task = asyncio.create_task(listen())
        await ready.wait()

    @property
    def session_id(self) -> str:
        return str(self.client.cookies[COOKIE]).split(".")[0]

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        await self.client.aclose()


async def arrival(page: Page, found, limit: float = 30) -> float:
    """When the first message ``found(texts)`` names arrived on the page."""

    async def first() -> float:
        while (text := found(set(page.arrived))) is None:
            page.changed.clear()
            await page.changed.wait()
        return page.arrived[text]

    return await asyncio.wait_for(first(), limit)


def conversation_ids(factory, pages: list[Page]) -> dict[str, tuple[int, int]]:
    with factory() as session:
        found = {}
        for page in pages:
            conversation = session.query(Conversation).filter_by(channel="web", sender_id=page.session_id).one()
            handoff = session.query(Handoff).filter_by(conversation_id=conversation.id).one()
            found[page.session_id] = (conversation.id, handoff.id)
        return found


async def run(url: str, factory, pages_count: int, replies: int) -> dict[str, list[float]]:
    pages = [Page(url) for _ in range(pages_count)]
    await asyncio.gather(*(page.open() for page in pages))
    ids = conversation_ids(factory, pages)
    agent = httpx.AsyncClient(base_url=url, timeout=60)
    login = await agent.post("/console/login", data={"email": AGENT, "password": PASSWORD})
    assert login.status_code in (200, 303), login.text
    csrf = {"X-CSRF-Token": (await agent.get("/console/api/me")).json()["csrf_token"]}
    for _, handoff_id in ids.values():
        (await agent.post(f"/console/api/handoffs/{handoff_id}/claim", headers=csrf)).raise_for_status()
    timings: dict[str, list[float]] = {"agent reply": [], "handback notice": []}
    for round_ in range(replies):
        for page in pages:
            conversation_id, _ = ids[page.session_id]
            text = f"Balasan petugas {round_} untuk {page.session_id[-6:]}"
            start = time.perf_counter()
            sent = await agent.post(
                f"/console/api/conversations/{conversation_id}/reply", json={"text": text}, headers=csrf
            )
            sent.raise_for_status()
            timings["agent reply"].append(await arrival(page, lambda texts, t=text: t if t in texts else None) - start)
    for page in pages:
        conversation_id, _ = ids[page.session_id]
        before = set(page.arrived)
        start = time.perf_counter()
        (await agent.post(f"/console/api/conversations/{conversation_id}/resolve", headers=csrf)).raise_for_status()
        notice = await arrival(page, lambda texts, b=before: next(iter(texts - b), None))
        timings["handback notice"].append(notice - start)
    await agent.aclose()
    await asyncio.gather(*(page.close() for page in pages))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--replies", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        db_url = f"sqlite:///{tmp / 'bench.db'}"
        migrate(db_url)
        factory = make_session_factory(make_engine(db_url))
        with factory.begin() as session:
            create_user(session, email=AGENT, password=PASSWORD, role="agent", name="Bench", actor="bench")
        with running_stack(tmp, db_url, app_port=18091, rasa_port=18092) as (app_url, _):
            timings = asyncio.run(run(app_url, factory, args.pages, args.replies))
    print(f"{args.pages} open pages, {args.replies} agent replies each")
    print("| message | n | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, values in timings.items():
        ms = [v * 1000 for v in values]
        print(f"| {name} | {len(ms)} | {percentile(ms, 50):.0f} | {percentile(ms, 95):.0f} | {max(ms):.0f} |")


if __name__ == "__main__":
    sys.exit(main())
