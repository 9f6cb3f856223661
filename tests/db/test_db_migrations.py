from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from bot.db import Base, make_engine, migrate, normalize_url


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return list(compare_metadata(context, Base.metadata))


def _constraints(engine: Engine) -> dict[str, tuple[set[str], set[tuple[str, str | None]]]]:
    """Named CHECK constraints and FK (name, ondelete) per table; compare_metadata skips both."""
    inspector = inspect(engine)
    result = {}
    for table in Base.metadata.sorted_tables:
        checks = {c["name"] for c in inspector.get_check_constraints(table.name)}
        fks = {(fk["name"], (fk.get("options") or {}).get("ondelete")) for fk in inspector.get_foreign_keys(table.name)}
        result[table.name] = (checks, fks)
    return result


def _expected_constraints() -> dict[str, tuple[set[str], set[tuple[str, str | None]]]]:
    from sqlalchemy import CheckConstraint, ForeignKeyConstraint

    result = {}
    for table in Base.metadata.sorted_tables:
        checks = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        fks = {(c.name, c.ondelete) for c in table.constraints if isinstance(c, ForeignKeyConstraint)}
        result[table.name] = (checks, fks)
    return result


def _assert_matches_models(url: str) -> None:
    engine = make_engine(url)
    try:
        assert _diff(engine) == []
        assert _constraints(engine) == _expected_constraints()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
    finally:
        engine.dispose()


def test_sqlite_migration_matches_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'tagih.db'}"  # parent directories are created
    migrate(url)
    migrate(url)  # a second upgrade is a no-op
    _assert_matches_models(url)


def test_postgres_migration_matches_models(postgres_url: str) -> None:
    migrate(postgres_url)
    _assert_matches_models(postgres_url)
    engine = make_engine(postgres_url)
    try:
        columns = {c["name"]: c for c in inspect(engine).get_columns("accounts")}
        assert str(columns["amount_due"]["type"]) == "BIGINT"
        columns = {c["name"]: c for c in inspect(engine).get_columns("payments")}
        assert columns["paid_at"]["type"].timezone is True
    finally:
        engine.dispose()


def test_postgres_round_trip(postgres_url: str) -> None:
    from datetime import date, datetime, timezone
    from decimal import Decimal

    from sqlalchemy import select

    from bot.db import Account, Debtor, Payment, make_session_factory

    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        factory = make_session_factory(engine)
        with factory() as session:
            debtor = Debtor(name="Budi", phone="+6281234567801", birth_date=date(1990, 1, 1), timezone="Asia/Jayapura")
            account = Account(
                ref="PG-1",
                debtor=debtor,
                currency="IDR",
                amount_due=Decimal("12345678901.23"),
                due_date=date(2026, 11, 1),
            )
            account.payments.append(
                Payment(amount=Decimal("0.01"), source="api", paid_at=datetime(2026, 11, 2, tzinfo=timezone.utc))
            )
            session.add(account)
            session.commit()
        with factory() as session:
            loaded = session.scalars(select(Account)).one()
            assert loaded.amount_due == Decimal("12345678901.23")
            assert loaded.balance == Decimal("12345678901.22")
            assert loaded.payments[0].paid_at == datetime(2026, 11, 2, tzinfo=timezone.utc)
    finally:
        engine.dispose()


def test_sqlite_pragmas(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_normalize_url(url: str, driver: str) -> None:
    assert normalize_url(url).drivername == driver


def _head() -> str:
    from alembic.script import ScriptDirectory

    from bot.db.session import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head
