"""Reminder fixtures: a migrated database with accounts made to measure, and a recording trigger."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Account, Debtor
from bot.db.session import make_engine, make_session_factory, migrate
from bot.domain.contact_rules import INDONESIA
from bot.outreach.dispatch import Dispatcher
from bot.outreach.ladder import active_ladder
from bot.services.accounts import import_account_rows
from tests.db.conftest import postgres_base_url, postgres_url  # noqa: F401 - fixtures

# Monday 23 November 2026, 10:00 in Jakarta (WIB, UTC+7)
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
_numbers = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> sessionmaker[Session]:
    """Every reminder test runs on the embedded default and on PostgreSQL (the scaled deployment)."""
    url = (
        f"sqlite:///{tmp_path / 'scheduler.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    migrate(url)
    return make_session_factory(make_engine(url))


class Accounts:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def add(
        self,
        *,
        due: date,
        tz: str = "Asia/Jakarta",
        language: str = "id",
        amount: str = "1500000",
        phone: bool = True,
        telegram: str | None = None,
    ) -> str:
        n = next(_numbers)
        ref = f"SCH-{n:05d}"
        row = {
            "account_ref": ref,
            "name": f"Debitur {n}",
            "phone": f"+62812{n:08d}",
            "language": language,
            "timezone": tz,
            "currency": "IDR",
            "amount_due": amount,
            "due_date": due.isoformat(),
            "birth_date": "1990-01-01",
        }
        if telegram:
            row["telegram_chat_id"] = telegram
        with self.factory.begin() as session:
            import_account_rows(session, [row])
            if not phone:
                self.get(session, ref).debtor.phone = None
        return ref

    def get(self, session: Session, ref: str) -> Account:
        return session.scalar(select(Account).where(Account.ref == ref))

    def debtor(self, session: Session, ref: str) -> Debtor:
        return self.get(session, ref).debtor


@pytest.fixture
def accounts(factory: sessionmaker[Session]) -> Accounts:
    return Accounts(factory)


class RecordingTrigger:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.fail_with: Exception | None = None

    async def __call__(self, sender: str, intent: str, entities: dict[str, Any]) -> list[dict[str, Any]]:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append((sender, intent, entities))
        return []


@pytest.fixture
def trigger() -> RecordingTrigger:
    return RecordingTrigger()


def make_dispatcher(
    factory, trigger, *, worker: str = "w1", profile=INDONESIA, channels=("whatsapp", "telegram"), **kw
):
    return Dispatcher(
        factory,
        ladder=active_ladder,
        profile=profile,
        channels=channels,
        trigger=trigger,
        company_name="Tagih Finance",
        worker=worker,
        **kw,
    )


def days(n: int) -> timedelta:
    return timedelta(days=n)
