"""The accounts import on PostgreSQL, whose lookup path differs from SQLite's (array parameters)."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.db import make_engine, make_session_factory, migrate
from bot.services.accounts import DEMO_CSV, account_snapshot, import_accounts_csv


def test_import_and_snapshot_on_postgres(postgres_url: str) -> None:
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        factory = make_session_factory(engine)
        first = import_accounts_csv(factory, DEMO_CSV)
        second = import_accounts_csv(factory, DEMO_CSV)
        assert (first.created, first.updated, second.created, second.updated) == (8, 0, 0, 8)
        with factory() as session:
            snap = account_snapshot(session, "DEMO-1004", now=datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc))
        # 15:00 UTC on Dec 1 is already Dec 2 in Jayapura (WIT, UTC+9).
        assert (snap["amount_due"], snap["days_past_due"], snap["debtor"]["timezone"]) == (
            "850000.00",
            1,
            "Asia/Jayapura",
        )
    finally:
        engine.dispose()
