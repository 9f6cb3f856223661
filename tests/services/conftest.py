"""A migrated SQLite database of the test's own (modules with made-to-measure data define their own)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.db.session import make_engine, make_session_factory, migrate


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'services.db'}"
    migrate(url)
    return make_session_factory(make_engine(url))
