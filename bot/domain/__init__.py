"""Pure domain rules: dates, amounts, money and instalment schedules (no I/O, no database)."""

from bot.domain.amounts import parse_amount, parse_count
from bot.domain.dates import (
    format_date,
    format_weekday_date,
    local_today,
    parse_birth_date,
    parse_due_date,
    parse_paid_date,
)
from bot.domain.money import format_money, to_decimal
from bot.domain.schedule import (
    InstallmentPolicy,
    ScheduledInstallment,
    check_installment_request,
    installment_schedule,
    latest_promise_date,
    max_count_for,
    promise_problem,
)

__all__ = [
    "InstallmentPolicy",
    "ScheduledInstallment",
    "check_installment_request",
    "format_date",
    "format_money",
    "format_weekday_date",
    "installment_schedule",
    "latest_promise_date",
    "local_today",
    "max_count_for",
    "parse_amount",
    "parse_birth_date",
    "parse_count",
    "parse_due_date",
    "parse_paid_date",
    "promise_problem",
    "to_decimal",
]
