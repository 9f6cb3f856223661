"""Column types that keep money exact and datetimes unambiguous on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")


def to_minor_units(value: Any) -> int:
    """Amount -> integer hundredths; refuses anything that would silently round.

    Floats are refused outright: ``0.1 + 0.2`` must never reach a ledger.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"money must be a Decimal or int, not {type(value).__name__}")
    if isinstance(value, int):
        return value * 100
    if not isinstance(value, Decimal):
        raise ValueError(f"money must be a Decimal or int, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"money must be finite, got {value}")
    try:
        quantized = value.quantize(CENT)
    except InvalidOperation as exc:  # more digits than the context precision
        raise ValueError(f"money value out of range: {value}") from exc
    if quantized != value:
        raise ValueError(f"money has more than 2 decimal places: {value}")
    return int(quantized.scaleb(2))


def from_minor_units(value: int) -> Decimal:
    return Decimal(int(value)).scaleb(-2)


class Money(TypeDecorator[Decimal]):
    """A ``Decimal`` with 2 decimal places stored as an integer count of hundredths.

    Integers are exact everywhere (SQLite has no true DECIMAL), and BIGINT holds far more than any
    receivable.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return to_minor_units(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return from_minor_units(value)

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        return "NULL" if value is None else str(to_minor_units(value))

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes only, stored as UTC, always read back aware in UTC.

    SQLite has no timezone support, so the value is stored naive-in-UTC there; PostgreSQL gets a
    ``timestamptz``. Naive input is refused because its meaning depends on the server's clock.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise ValueError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: attach a timezone")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    @property
    def python_type(self) -> type[datetime]:
        return datetime
