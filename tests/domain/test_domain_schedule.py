"""Instalment schedules and promise limits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.domain import (
    InstallmentPolicy,
    ScheduledInstallment,
    check_installment_request,
    installment_schedule,
    latest_promise_date,
    max_count_for,
    promise_problem,
)

TODAY = date(2026, 11, 23)
POLICY = InstallmentPolicy(max_installments=12, min_installment=Decimal("100000"), max_first_days=14)


def test_equal_parts_with_remainder_last() -> None:
    plan = installment_schedule(Decimal("1000000"), 3, date(2026, 12, 1))
    assert plan == [
        ScheduledInstallment(1, date(2026, 12, 1), Decimal("333333")),
        ScheduledInstallment(2, date(2027, 1, 1), Decimal("333333")),
        ScheduledInstallment(3, date(2027, 2, 1), Decimal("333334")),
    ]


def test_sub_quantum_part_goes_to_last() -> None:
    plan = installment_schedule(Decimal("1000000.50"), 2, date(2026, 12, 1), quantum=Decimal("1000"))
    assert [p.amount for p in plan] == [Decimal("500000"), Decimal("500000.50")]


def test_monthly_dates_are_computed_from_the_first_date() -> None:
    plan = installment_schedule(Decimal("300"), 3, date(2027, 1, 31))
    assert [p.due_date for p in plan] == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]
    leap = installment_schedule(Decimal("300"), 2, date(2028, 1, 31))
    assert leap[1].due_date == date(2028, 2, 29)


def test_weekly_step() -> None:
    plan = installment_schedule(Decimal("300"), 3, TODAY, step="weekly")
    assert [p.due_date for p in plan] == [TODAY, date(2026, 11, 30), date(2026, 12, 7)]


def test_single_installment_is_the_total() -> None:
    assert installment_schedule(Decimal("1234.56"), 1, TODAY) == [ScheduledInstallment(1, TODAY, Decimal("1234.56"))]


@pytest.mark.parametrize(
    ("total", "count", "kwargs"),
    [
        (Decimal("100"), 0, {}),
        (Decimal("0"), 3, {}),
        (Decimal("-5"), 3, {}),
        (Decimal("2"), 3, {}),
        (Decimal("100"), 2, {"step": "daily"}),
        (Decimal("100"), 2, {"quantum": Decimal("0")}),
    ],
)
def test_invalid_schedules(total: Decimal, count: int, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        installment_schedule(total, count, TODAY, **kwargs)  # type: ignore[arg-type]


@given(
    total=st.decimals(min_value=Decimal("1"), max_value=Decimal("1000000000"), places=2),
    count=st.integers(min_value=1, max_value=60),
    first=st.dates(min_value=date(2020, 1, 1), max_value=date(2090, 12, 31)),
    step=st.sampled_from(["monthly", "weekly"]),
    quantum=st.sampled_from([Decimal("1"), Decimal("100"), Decimal("1000"), Decimal("0.01")]),
)
def test_schedule_properties(total: Decimal, count: int, first: date, step: str, quantum: Decimal) -> None:
    assume(total >= quantum * count)
    plan = installment_schedule(total, count, first, step=step, quantum=quantum)
    assert len(plan) == count
    assert sum((p.amount for p in plan), Decimal(0)) == total
    assert [p.seq for p in plan] == list(range(1, count + 1))
    regular = {p.amount for p in plan[:-1]}
    assert len(regular) <= 1
    for p in plan[:-1]:
        assert p.amount > 0
        assert p.amount % quantum == 0
    assert plan[-1].amount >= plan[0].amount
    assert plan[-1].amount - plan[0].amount < quantum * count
    assert plan[0].due_date == first
    assert all(a.due_date < b.due_date for a, b in zip(plan, plan[1:], strict=False))


def test_check_installment_request_ok() -> None:
    assert check_installment_request(Decimal("1200000"), 6, date(2026, 12, 1), today=TODAY, policy=POLICY) == []


@pytest.mark.parametrize(
    ("total", "count", "first", "problems"),
    [
        (Decimal("5000000"), 13, date(2026, 12, 1), ["too_many_installments"]),
        (Decimal("500000"), 6, date(2026, 12, 1), ["installment_below_minimum"]),
        (Decimal("1200000"), 6, date(2026, 11, 22), ["first_date_in_past"]),
        (Decimal("1200000"), 6, date(2026, 12, 8), ["first_date_too_far"]),
        (Decimal("1200000"), 6, date(2026, 12, 7), []),
        (Decimal("50000"), 1, TODAY, []),
        (Decimal("500000"), 24, date(2027, 1, 1), ["too_many_installments", "installment_below_minimum",
                                                    "first_date_too_far"]),
        (Decimal("500000"), 0, TODAY, ["invalid_count"]),
    ],
)  # fmt: skip
def test_check_installment_request_problems(total: Decimal, count: int, first: date, problems: list[str]) -> None:
    assert check_installment_request(total, count, first, today=TODAY, policy=POLICY) == problems


@pytest.mark.parametrize(
    ("total", "expected"),
    [(Decimal("5000000"), 12), (Decimal("550000"), 5), (Decimal("50000"), 1), (Decimal("100000"), 1)],
)
def test_max_count_for(total: Decimal, expected: int) -> None:
    assert max_count_for(total, POLICY) == expected


@given(st.decimals(min_value=Decimal("1"), max_value=Decimal("100000000"), places=0))
def test_max_count_is_accepted_by_the_checker(total: Decimal) -> None:
    count = max_count_for(total, POLICY)
    assert 1 <= count <= POLICY.max_installments
    assert check_installment_request(total, count, TODAY, today=TODAY, policy=POLICY) == []


def test_promise_limits() -> None:
    assert latest_promise_date(TODAY, 14) == date(2026, 12, 7)
    assert promise_problem(TODAY, today=TODAY, max_days=14) is None
    assert promise_problem(date(2026, 12, 7), today=TODAY, max_days=14) is None
    assert promise_problem(date(2026, 12, 8), today=TODAY, max_days=14) == "too_far"
    assert promise_problem(date(2026, 11, 22), today=TODAY, max_days=14) == "in_past"
