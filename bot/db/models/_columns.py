"""Column helpers every table shares: the UTC clock for timestamps, CHECK constraints for enumerated
strings, and money validation at assignment time."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
)
from sqlalchemy.orm import validates

from bot.db.types import from_minor_units, to_minor_units


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def one_of(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    """CHECK constraint named ``ck_<table>_<name>`` through the naming convention."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name or column)


def money_validator(*names: str) -> Any:
    """Reject floats and sub-cent amounts when assigned, not later at flush time far from the bug."""

    @validates(*names)
    def _validate(self: Any, key: str, value: Any) -> Decimal | None:
        if value is None:
            return None
        return from_minor_units(to_minor_units(value))

    return _validate
