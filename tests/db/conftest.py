"""Database fixtures: a migrated SQLite file per test, and PostgreSQL when one is reachable.

PostgreSQL tests use ``TAGIH_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
and a throwaway schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, make_session_factory, migrate

POSTGRES_URL = os.environ.get("TAGIH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tagih.db'}"


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


def _postgres_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=2):
            return None
    except Exception as exc:  # any failure means "skip", and the reason is shown
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.__class__.__name__}: {exc}"


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    reason = _postgres_reachable()
    if reason:
        pytest.skip(reason)
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_base_url: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, so tests never touch existing tables."""
    import psycopg

    schema = f"tagih_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_base_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in postgres_base_url else "?"
    yield f"{postgres_base_url}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(postgres_base_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
