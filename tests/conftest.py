"""Shared fixtures: the live stack (real Rasa server + the app over HTTP).

The live stack is session-scoped because loading a Rasa model takes tens of seconds; tests
keep apart by using a fresh sender id each.
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.db.session import make_engine, make_session_factory, migrate
from bot.dialogue.model import current_model
from bot.dialogue.rasa_server import RasaServer
from bot.services.accounts import import_account_rows, load_demo_if_empty
from tests.support import (
    TEST_ACTION_TOKEN,
    TEST_RASA_TOKEN,
    AppServer,
    LiveStack,
    channel_settings,
    fixed_clock,
    free_port,
    make_settings,
)


@pytest.fixture(scope="session")
def graph_api() -> Iterator[Any]:
    from tests.fakes.graph_api import FakeGraphAPI

    with FakeGraphAPI() as fake:
        yield fake


@pytest.fixture(scope="session")
def bot_api() -> Iterator[Any]:
    from tests.fakes.bot_api import FakeBotAPI

    with FakeBotAPI() as fake:
        yield fake


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory, graph_api: Any, bot_api: Any) -> Iterator[LiveStack]:
    from bot.web.app import create_app

    tmp = tmp_path_factory.mktemp("live")
    app_port, rasa_port = free_port(), free_port()
    settings = make_settings(
        tmp,
        TAGIH_PORT=app_port,
        TAGIH_RASA_PORT=rasa_port,
        TAGIH_RASA_URL=f"http://127.0.0.1:{rasa_port}",
        **channel_settings(graph_api.base_url, bot_api.base_url),
    )
    override = os.environ.get("TAGIH_TEST_MODEL")  # for iterating on data: test a given model file
    model = Path(override) if override else current_model(settings.models_dir)
    if model is None:
        pytest.fail("no trained model for the current nlu/ data: run 'make model' (make test does)")
    migrate(settings.database_url)
    session_factory = make_session_factory(make_engine(settings.database_url))
    load_demo_if_empty(session_factory)
    rasa = RasaServer(
        rasa_bin=settings.rasa_bin,
        model=model,
        port=rasa_port,
        action_url=f"http://127.0.0.1:{app_port}/actions/webhook",
        action_token=TEST_ACTION_TOKEN,
        rasa_token=TEST_RASA_TOKEN,
        tracker_db=tmp / "rasa-tracker.db",
        log_file=tmp / "rasa.log",
    )
    with AppServer(create_app(settings, clock=fixed_clock), app_port) as app:
        rasa.start()
        try:
            rasa.wait_ready()
            pid = rasa.process.pid if rasa.process else None
            yield LiveStack(app.url, rasa.url, settings, session_factory, graph_api, pid)
        finally:
            rasa.stop()


_debtor_counter = itertools.count(1)


@dataclass
class Debtor:
    ref: str
    phone: str
    birth: str
    language: str


@pytest.fixture
def new_debtor(live_stack: LiveStack):
    def make(language: str = "id", amount: str = "1750000", due: str = "2026-11-15") -> Debtor:
        n = next(_debtor_counter)
        phone = f"+62813{random.randint(10_000_000, 99_999_999)}"
        debtor = Debtor(
            ref=f"CH-{random.randint(10000, 99999)}{n}",
            phone=phone,
            birth="1991-02-0" + str(n % 9 + 1),
            language=language,
        )
        with live_stack.session_factory.begin() as session:
            import_account_rows(
                session,
                [
                    {
                        "account_ref": debtor.ref,
                        "name": f"Debitur {n}",
                        "phone": phone,
                        "language": language,
                        "timezone": "Asia/Jakarta",
                        "currency": "IDR",
                        "amount_due": amount,
                        "due_date": due,
                        "birth_date": debtor.birth,
                    }
                ],
            )
        return debtor

    return make


@pytest.fixture
def sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


CHROMIUM = os.environ.get("TAGIH_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def page() -> Iterator[Any]:
    """A page in Debian's Chromium driven by Playwright."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM} (.ci/run installs Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser.new_page()
        browser.close()
