"""Instalment plans and promise-to-pay limits.

These are the arithmetic and rules behind "bisa dicicil?" and "sy bayar tgl 25": kept pure so the
dialogue, the API and the agent console all agree on the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from dateutil.relativedelta import relativedelta

__all__ = [
    "InstallmentPolicy",
    "ScheduledInstallment",
    "check_installment_request",
    "count_for_amount",
    "installment_schedule",
    "latest_promise_date",
    "max_count_for",
    "promise_problem",
]


@dataclass(frozen=True)
class ScheduledInstallment:
    """One due instalment; ``seq`` starts at 1 as debtors count them."""

    seq: int
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class InstallmentPolicy:
    """Creditor limits for instalment plans, configured per portfolio rather than hard-coded."""

    max_installments: int
    min_installment: Decimal
    max_first_days: int


def _due_date(first_date: date, index: int, step: str) -> date:
    # Always from first_date, never chained: 31 Jan -> 28 Feb -> 31 Mar, not -> 28 Mar.
    if step == "monthly":
        return first_date + relativedelta(months=index)
    if step == "weekly":
        return first_date + timedelta(weeks=index)
    if step == "biweekly":
        return first_date + timedelta(weeks=2 * index)
    raise ValueError(f"unknown step {step!r}; use 'monthly', 'weekly' or 'biweekly'")


def count_for_amount(total: Decimal, amount: Decimal) -> int:
    """How many instalments of ``amount`` pay ``total`` ("500rb per bulan" for 2.4jt is 5: the last
    one smaller)."""
    if amount <= 0:
        raise ValueError("amount must be positive")
    return int((total / amount).to_integral_value(rounding=ROUND_CEILING))


def installment_schedule(
    total: Decimal,
    count: int,
    first_date: date,
    *,
    step: str = "monthly",
    quantum: Decimal = Decimal("1"),
    amount: Decimal | None = None,
) -> list[ScheduledInstallment]:
    """Split ``total`` into ``count`` payable instalments: equal ones, or ``amount`` each when the
    debtor named what they can pay per period (then ``count`` must be :func:`count_for_amount`).

    Each amount is a multiple of ``quantum`` (whole Rupiah by default) so transfers are easy to
    make, and the last one absorbs the remainder so the plan settles the debt exactly.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if total <= 0:
        raise ValueError("total must be positive")
    if quantum <= 0:
        raise ValueError("quantum must be positive")
    _due_date(first_date, 0, step)  # validate step before doing any work
    if amount is not None:
        if count != count_for_amount(total, amount):
            raise ValueError(f"{count} instalments of {amount} do not pay {total}")
        regular = (amount / quantum).to_integral_value(rounding=ROUND_FLOOR) * quantum
    else:
        regular = ((total / count) / quantum).to_integral_value(rounding=ROUND_FLOOR) * quantum
    if count > 1 and regular <= 0:
        raise ValueError("total is too small to split into that many instalments")
    last = total - regular * (count - 1)
    return [
        ScheduledInstallment(
            seq=i + 1,
            due_date=_due_date(first_date, i, step),
            amount=last if i == count - 1 else regular,
        )
        for i in range(count)
    ]


def max_count_for(total: Decimal, policy: InstallmentPolicy) -> int:
    """Most instalments allowed for this total, to offer the debtor a concrete upper bound."""
    limit = policy.max_installments
    if policy.min_installment > 0:
        limit = min(limit, int((total / policy.min_installment).to_integral_value(rounding=ROUND_FLOOR)))
    return max(1, limit)


def check_installment_request(
    total: Decimal,
    count: int,
    first_date: date,
    *,
    today: date,
    policy: InstallmentPolicy,
    amount: Decimal | None = None,
) -> list[str]:
    """Every policy problem with a request, as machine-readable codes.

    All problems are returned at once so the bot can explain them together instead of
    rejecting the debtor's proposal one reason at a time.  Codes: ``invalid_count``,
    ``too_many_installments``, ``installment_below_minimum``, ``first_date_in_past``,
    ``first_date_too_far``.
    """
    problems: list[str] = []
    if count < 1:
        problems.append("invalid_count")
    elif count > policy.max_installments:
        problems.append("too_many_installments")
    regular = amount if amount is not None else (total / count if count else total)
    if count > 1 and regular < policy.min_installment:
        problems.append("installment_below_minimum")
    if first_date < today:
        problems.append("first_date_in_past")
    elif first_date > today + timedelta(days=policy.max_first_days):
        problems.append("first_date_too_far")
    return problems


def latest_promise_date(today: date, max_days: int) -> date:
    """The last date a promise to pay may name, for "paling lambat tgl ..." replies."""
    return today + timedelta(days=max_days)


def promise_problem(promised: date, *, today: date, max_days: int) -> str | None:
    """Why a promised date is unacceptable (``in_past`` / ``too_far``), or None when it is fine."""
    if promised < today:
        return "in_past"
    if promised > latest_promise_date(today, max_days):
        return "too_far"
    return None
