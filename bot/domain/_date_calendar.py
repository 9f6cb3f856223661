"""Calendar arithmetic for reading chat dates: what a rule is asked (the day it was said and which
way to read it) and the safe month/year/weekday steps every rule shares (clamping to a month's end,
the nearest candidate on the right side of today)."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta


@dataclass(frozen=True)
class Ask:
    """What the rules need besides the text: the day it was said and which way to read it."""

    today: date
    past: bool  # a payment: open references ("jumat", "tgl 20") are read backward
    payday: int | None = None


# --------------------------------------------------------------------------------------------
# Calendar steps


def last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def in_month(anchor: date, months: int, day: int) -> date:
    """Day ``day`` of the month ``months`` away from ``anchor``'s, clamped to that month's end.

    Debtors who say "tgl 31" in November (or "tgl 30" in February) mean the end of the month,
    not a day in the month after.
    """
    first = anchor.replace(day=1) + relativedelta(months=months)
    return first.replace(day=min(day, last_day(first.year, first.month)))


def in_year(year: int, month: int, day: int, *, clamp: bool) -> date | None:
    if clamp:
        day = min(day, last_day(year, month))
    return safe_date(year, month, day)


def on_side(ask: Ask, candidate: date, *, strict: bool) -> bool:
    if candidate == ask.today:
        return not strict
    return (candidate < ask.today) == ask.past


def nearest(ask: Ask, candidate: Callable[[int], date | None], *, strict: bool = False) -> Iterator[date]:
    """``candidate(0)``, ``candidate(±1)``, ... (months or years away) on the side of today the
    question looks at, nearest first; today counts unless ``strict``."""
    step = -1 if ask.past else 1
    for k in range(0, 100 * step, step):
        found = candidate(k)
        if found is not None and on_side(ask, found, strict=strict):
            yield found


def first(dates: Iterator[date]) -> date | None:
    return next(dates, None)


def lean(ask: Ask, found: date | None, sign: int) -> date | None:
    """A phrase that points away from the question ("kemarin" in a promise, "besok" in a payment)
    answers another question ("sy baru di phk minggu lalu"): no date. ``sign`` is the phrase's own
    direction, 0 for phrases that have none."""
    if found is None or sign == 0 or (sign < 0) == ask.past:
        return found
    return None


def week_day(today: date, weekday: int, weeks: int = 0) -> date:
    """That weekday in this week (``weeks=0``), next week (1) or last week (-1)."""
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks, days=weekday)


def near_weekday(today: date, weekday: int, *, past: bool, today_counts: bool) -> date:
    delta = (today.weekday() - weekday) % 7 if past else (weekday - today.weekday()) % 7
    if delta == 0 and not today_counts:
        delta = 7
    return today - timedelta(days=delta) if past else today + timedelta(days=delta)


def full_year(year: int) -> int:
    """Two-digit years in a payment promise are this century."""
    return 2000 + year if year < 100 else year
