"""Fixtures for the security tests that need the app but not Rasa: settings on scratch files and a
migrated database with one agent and one admin (the other tests start the live stack)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.db.session import make_engine, make_session_factory, migrate
from bot.settings import Settings
from tests.console_support import make_user
from tests.support import make_settings

AGENT, ADMIN = "ana@tagih.example", "admin@tagih.example"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    make_user(factory, AGENT, "agent")
    make_user(factory, ADMIN, "admin")
    yield factory
    engine.dispose()
