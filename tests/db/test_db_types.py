from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from bot.db import Account, Debtor, Money, Payment, UTCDateTime


def _account(session: Session, amount: Decimal = Decimal("100.00")) -> Account:
    debtor = Debtor(name="Budi", phone="+6281234567801", birth_date=date(1990, 1, 1), timezone="Asia/Jakarta")
    account = Account(ref="A-1", debtor=debtor, currency="IDR", amount_due=amount, due_date=date(2026, 11, 1))
    session.add(account)
    session.commit()
    return account


@pytest.mark.parametrize(
    "amount",
    ["12345678901.23", "0.01", "0.00", "1500000.00", "92233720368547758.07", "-5.10"],
)
def test_money_round_trips_exactly(session: Session, amount: str) -> None:
    _account(session, Decimal(amount))
    session.expire_all()
    stored = session.scalar(select(Account.amount_due))
    assert stored == Decimal(amount)
    assert str(stored) == str(Decimal(amount).quantize(Decimal("0.01")))


def test_money_is_stored_as_integer_hundredths(session: Session) -> None:
    _account(session, Decimal("12345678901.23"))
    raw = session.connection().exec_driver_sql("SELECT amount_due FROM accounts").scalar()
    assert raw == 1234567890123


@pytest.mark.parametrize("bad", [1.5, 0.1, float("nan")])
def test_money_rejects_float(bad: float) -> None:
    with pytest.raises(ValueError, match="float"):
        Money().process_bind_param(bad, sqlite.dialect())
    with pytest.raises(ValueError, match="float"):
        Account(amount_due=bad)


@pytest.mark.parametrize("bad", [Decimal("1.001"), Decimal("0.005"), Decimal("NaN"), Decimal("Infinity"), "10"])
def test_money_rejects_sub_cent_and_non_numbers(bad: object) -> None:
    with pytest.raises(ValueError):
        Money().process_bind_param(bad, sqlite.dialect())


def test_money_accepts_ints_and_trailing_zeros() -> None:
    assert Money().process_bind_param(15, sqlite.dialect()) == 1500
    assert Money().process_bind_param(Decimal("1.230"), sqlite.dialect()) == 123
    assert Account(amount_due=7).amount_due == Decimal("7.00")


def test_money_float_rejected_at_flush_for_core_inserts(session: Session) -> None:
    account = _account(session)
    with pytest.raises(StatementError) as info:
        session.execute(
            Payment.__table__.insert(),
            {
                "account_id": account.id,
                "amount": 1.5,
                "paid_at": datetime.now(timezone.utc),
                "source": "api",
                "created_at": datetime.now(timezone.utc),
            },
        )
    assert isinstance(info.value.orig, ValueError)


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), places=2, allow_nan=False))
def test_money_bind_and_result_are_inverse(value: Decimal) -> None:
    money = Money()
    stored = money.process_bind_param(value, sqlite.dialect())
    assert isinstance(stored, int)
    assert money.process_result_value(stored, sqlite.dialect()) == value


def test_utc_datetime_round_trip_is_aware_utc(session: Session) -> None:
    account = _account(session)
    jakarta = datetime(2026, 11, 23, 8, 30, tzinfo=ZoneInfo("Asia/Jakarta"))
    session.add(Payment(account=account, amount=Decimal("1.00"), paid_at=jakarta, source="api"))
    session.commit()
    session.expire_all()
    paid_at = session.scalar(select(Payment.paid_at))
    assert paid_at == jakarta
    assert paid_at.utcoffset() == timedelta(0)
    assert paid_at.hour == 1
    raw = session.connection().exec_driver_sql("SELECT paid_at FROM payments").scalar()
    assert raw.startswith("2026-11-23 01:30:00")


def test_utc_datetime_rejects_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), sqlite.dialect())


def test_utc_datetime_keeps_awareness_for_postgres() -> None:
    value = datetime(2026, 1, 1, 7, tzinfo=ZoneInfo("Asia/Jakarta"))
    bound = UTCDateTime().process_bind_param(value, postgresql.dialect())
    assert bound is not None and bound.tzinfo is not None and bound.hour == 0
    assert UTCDateTime().process_result_value(datetime(2026, 1, 1), sqlite.dialect()) == datetime(
        2026, 1, 1, tzinfo=timezone.utc
    )
