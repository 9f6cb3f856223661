"""Dates debtors mention in chat, and how we show dates back to them.

A promise to pay is only useful when it becomes a calendar date in the debtor's own timezone, so
everything here is relative to an explicit ``today`` (never the server clock). Chat spelling is
folded first (``_date_words``), then the rules below read the phrase the way an experienced
Indonesian desk collector would. dateparser, the former fallback, is not called any more: on the
promise rows of ``tests/domain/test_date_corpus.py`` it alone finds 62 of 225 dates, none of the
Indonesian relative phrases, and gives past dates for "the 5th"; as a fallback it read "four" as
4 November and "seminggu" as a date.

What the phrases mean
---------------------
A promise (``parse_due_date``) reads open references ("jumat", "tgl 5", "akhir bulan") forward from
today, a payment (``parse_paid_date``) backward. A phrase that points the other way ("kemarin",
"minggu lalu" in a promise; "besok", "bulan depan" in a payment) answers another question ("sy baru
di phk minggu lalu") and gives None. Explicit calendar dates ("5-12-2026", "tgl 25 ini") are returned
as written even on the wrong side of today, so the caller can say why it refuses them. Weeks run
Monday to Sunday. Both languages are read whatever the conversation language is: debtors mix them.

=============================================  ====================================================
phrase (and its chat spellings)                 promise / payment
=============================================  ====================================================
jumat, hari jumat, on friday                    next Friday after today / last Friday before today
jumat ini, this friday, jumat minggu ini        the same, but today counts if it is Friday
jumat besok, besok jumat, coming friday         next Friday after today / None
jumat depan, next friday, jumat minggu depan    Friday of next week: said on Sunday 5 days later,
                                                said on Thursday 8 days later (not tomorrow) / None
jumat kemarin, jumat lalu, last friday          None / last Friday before today (always a Friday)
jumat minggu lalu, friday last week             None / Friday of last week
minggu ini (alone)                              Sunday of this week, the end of "this week" / None
weekend, akhir minggu/pekan (ini), this weekend Saturday of this week, today on Sunday / the last
                                                Saturday on or before today
weekend depan, next weekend, end of next week   Saturday of next week / None
weekend kemarin, last weekend                   None / Saturday of last week
awal minggu depan, early next week              Monday of next week / None
minggu depan, next week / minggu lalu, last wk  +7 days / -7 days (each only its own way)
tgl 5, the 5th, 5 (alone)                       next 5th, today counts / last 5th, today counts
tgl 5 bulan depan / ini / lalu                  the 5th of next / this / last month (depan only
                                                for a promise, lalu only for a payment)
tgl 20 kemarin                                  None / last 20th before today
sabtu tgl 5                                     the next (last) 5th of the coming two months that is
                                                a Saturday; if neither is, the next (last) 5th: the
                                                day of the month wins over the weekday
tgl 31 in a 30-day month, tgl 30 in February    the last day of that month ("the end of the month"),
                                                unless that is today: then the next such day
5/12, 5 des, December 5th, 5th of December      next 5 December, today counts / last one
5-12-2026, 2026-12-05                           that date, even on the wrong side of today
awal bulan, beginning of the month              next 1st, today counts / this month's 1st
awal bulan depan, early next month              1st of next month, a month away on the 1st / None
pertengahan/tengah bulan, mid month             next 15th, today counts / last 15th, today counts
pertengahan bulan depan, mid next month         15th of next month / None
akhir bulan, end of the month                   last day of this month (today on the last day) /
                                                last month end on or before today
akhir bulan depan, end of next month            last day of next month / None
akhir bulan lalu, end of last month             None / last day of last month
akhir desember, mid december, awal januari      that part of the next (last) such month
akhir tahun, awal tahun depan                   31 December this year, 1 January next year
gajian, pas gajian, on payday, after payday     the next ``payday`` (day of month), today counts,
                                                clamped to the month's end; "gajian bulan depan":
                                                next month's payday; None when the payday is not
                                                known (the dialogue asks) / None
besok, lusa, 3 hari lagi, in 2 weeks            +1, +2, +3, +14 days / None
seminggu, 2 minggu (alone), minta waktu 3 hari  +7, +14, +3 days: the time asked for / None
bulan depan, sebulan lagi, tahun depan          same day next month / year, clamped / None
kemarin, kemarin lusa, 2 hari lalu, 2 days ago  None / -1, -2, -2 days
bulan lalu, last month                          None / same day last month, clamped
hari ini, skrg, nanti sore, tonight, today      today
tadi, tadi pagi, barusan, just now              None / today
kapan2, nanti aja, ga tau, secepatnya, soon     None: no date, the dialogue asks for one
=============================================  ====================================================
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import timezone as _tz
from itertools import islice
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_format_date
from dateutil.relativedelta import relativedelta

from bot.domain._date_words import (
    COUNT_RE,
    MONTH_RE,
    MONTHS,
    ORDINAL_RE,
    WEEKDAY_RE,
    WEEKDAYS,
    count_value,
    day_value,
    normalise,
)
from bot.domain._numwords import ID_NUMBER_PATTERN

__all__ = [
    "MONTHS",
    "WEEKDAYS",
    "format_date",
    "format_weekday_date",
    "local_today",
    "parse_birth_date",
    "parse_due_date",
    "parse_paid_date",
]


@dataclass(frozen=True)
class _Ask:
    """What the rules need besides the text: the day it was said and which way to read it."""

    today: date
    past: bool  # a payment: open references ("jumat", "tgl 20") are read backward
    payday: int | None = None


# --------------------------------------------------------------------------------------------
# Calendar helpers


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _in_month(anchor: date, months: int, day: int) -> date:
    """Day ``day`` of the month ``months`` away from ``anchor``'s, clamped to that month's end.

    Debtors who say "tgl 31" in November (or "tgl 30" in February) mean the end of the month,
    not a day in the month after.
    """
    first = anchor.replace(day=1) + relativedelta(months=months)
    return first.replace(day=min(day, _last_day(first.year, first.month)))


def _in_year(year: int, month: int, day: int, *, clamp: bool) -> date | None:
    if clamp:
        day = min(day, _last_day(year, month))
    return _safe_date(year, month, day)


def _on_side(ask: _Ask, candidate: date, *, strict: bool) -> bool:
    if candidate == ask.today:
        return not strict
    return (candidate < ask.today) == ask.past


def _nearest(ask: _Ask, candidate: Callable[[int], date | None], *, strict: bool = False) -> Iterator[date]:
    """``candidate(0)``, ``candidate(±1)``, ... (months or years away) on the side of today the
    question looks at, nearest first; today counts unless ``strict``."""
    step = -1 if ask.past else 1
    for k in range(0, 100 * step, step):
        found = candidate(k)
        if found is not None and _on_side(ask, found, strict=strict):
            yield found


def _first(dates: Iterator[date]) -> date | None:
    return next(dates, None)


def _lean(ask: _Ask, found: date | None, sign: int) -> date | None:
    """A phrase that points away from the question ("kemarin" in a promise, "besok" in a payment)
    answers another question ("sy baru di phk minggu lalu"): no date. ``sign`` is the phrase's own
    direction, 0 for phrases that have none."""
    if found is None or sign == 0 or (sign < 0) == ask.past:
        return found
    return None


def _week_day(today: date, weekday: int, weeks: int = 0) -> date:
    """That weekday in this week (``weeks=0``), next week (1) or last week (-1)."""
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks, days=weekday)


def _near_weekday(today: date, weekday: int, *, past: bool, today_counts: bool) -> date:
    delta = (today.weekday() - weekday) % 7 if past else (weekday - today.weekday()) % 7
    if delta == 0 and not today_counts:
        delta = 7
    return today - timedelta(days=delta) if past else today + timedelta(days=delta)


def _full_year(year: int) -> int:
    """Two-digit years in a payment promise are this century."""
    return 2000 + year if year < 100 else year


# --------------------------------------------------------------------------------------------
# Shared patterns

_NOT_AMOUNT = r"(?!\s*(?:rb|ribu|k\b|jt|juta|%|x\b|kali|times))"
_NOT_DURATION = (
    r"(?!\s*(?:hari|days?|minggu|weeks?|bulan|months?|tahun|years?|cicilan|installments?|angsuran|jam|hours?))"
)
_NOT_TIME = r"(?!\s*(?:am|pm|a\.m|p\.m|o'?clock|wib|wita|wit)\b)"
_NEXT_MONTH = re.compile(r"\b(?:bulan depan|bulan besok|next month)\b")
_THIS_MONTH = re.compile(r"\b(?:bulan ini|this month)\b")
_LAST_MONTH = re.compile(r"\b(?:bulan lalu|bulan kemarin|last month)\b")
_PAST_AFTER = re.compile(r"^\s*(?:kemarin|lalu|yesterday)\b")
_PAST_BEFORE = re.compile(r"\b(?:kemarin|lalu)\s*$")
_PAYDAY = re.compile(r"\bgaji\w*|\bpay\s?day\b|\bsalary\b|\bget paid\b|\bpaycheck\b|\bwages?\b")

Rule = Callable[[str, _Ask], "date | None"]


# --------------------------------------------------------------------------------------------
# Explicit calendar dates: "2026-12-05", "5/12/2026", "5/12", "5 des", "December 5th"

_ISO = re.compile(r"(?<![\d.,/-])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d/.-]*\d)")
_DMY = re.compile(r"(?<![\d.,/-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.-]*\d)")
# Day/month without a year; '.' is excluded because "1.5" is an amount, not a date.
_DM = re.compile(r"(?<![\d.,/-])(\d{1,2})[/-](\d{1,2})(?![\d/-])" + _NOT_AMOUNT)
_DAY = rf"(?:(?<![\d.,])(?P<num>\d{{1,2}})(?:st|nd|rd|th)?|\b(?P<word>{ORDINAL_RE}))"
_YEAR = r"(?:\s*,?\s*(?P<year>\d{4})(?!\d))?"
_DAY_MONTH = re.compile(rf"{_DAY}(?:\s+of)?\s*-?\s*(?P<month>{MONTH_RE})\.?(?![a-z]){_YEAR}")
_MONTH_DAY = re.compile(rf"(?<![a-z])(?P<month>{MONTH_RE})\.?\s+(?:the\s+)?{_DAY}(?![\d.,]){_YEAR}")


def _explicit_date(text: str, ask: _Ask) -> date | None:
    m = _ISO.search(text)
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _DMY.search(text)
    if m:
        return _safe_date(_full_year(int(m.group(4))), int(m.group(3)), int(m.group(1)))
    day: int | None
    m = _DM.search(text)
    if m and 1 <= int(m.group(2)) <= 12:
        day, month, year = int(m.group(1)), int(m.group(2)), None
    else:
        m = _DAY_MONTH.search(text) or _MONTH_DAY.search(text)
        if not m:
            return None
        day = day_value(m.group("num") or m.group("word"))
        month, year = MONTHS[m.group("month")], m.group("year")
        if day is None:
            return None
        if year:
            return _safe_date(int(year), month, day)
    behind = bool(_PAST_AFTER.search(text[m.end() :]) or _PAST_BEFORE.search(text[: m.start()]))
    side = _Ask(ask.today, ask.past or behind)
    found = _first(_nearest(side, lambda k: _in_year(ask.today.year + k, month, day, clamp=False), strict=behind))
    return _lean(ask, found, -1 if behind else 0)


# --------------------------------------------------------------------------------------------
# A day of the month: "tgl 5", "tanggal lima", "the 5th", "25" alone, "sabtu tgl 5", "tgl 20 kemarin"

_TANGGAL = re.compile(
    rf"\btanggal\s*(?:ke\s*-?\s*)?(?P<day>\d{{1,2}}|{ID_NUMBER_PATTERN})(?:an)?(?![\d/:]|[.,]\d)" + _NOT_AMOUNT
)
_THE_DAY = re.compile(
    r"\b(?:the|on|date|by|until)\s+(?:the\s+)?(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?![/:]|[.,]\d)"
    + _NOT_AMOUNT
    + _NOT_DURATION
    + _NOT_TIME
)
# "the first" is often an instalment, so a day in words needs "on the" or "of the month".
_THE_DAY_WORD = re.compile(
    rf"\b(?:on|by|until)\s+the\s+(?P<day>{ORDINAL_RE})\b|^(?:on\s+)?the\s+(?P<day2>{ORDINAL_RE})$"
    rf"|\bthe\s+(?P<day3>{ORDINAL_RE})\s+of\s+(?:the|this|next|last)\s+month\b"
)
_ORDINAL_DAY = re.compile(r"(?<![\w.,])(?P<day>\d{1,2})(?:st|nd|rd|th)\b")
_BARE_DAY = re.compile(
    r"(?:tanggal\s*)?(?P<day>\d{1,2})(?:st|nd|rd|th|an)?\s*(?:ya|yaa|aja|saja|ok|oke|deh|pak|bu|kak|gan|sis)?\s*[.,]*"
)


def _day_of_month(text: str, ask: _Ask) -> date | None:
    m = _TANGGAL.search(text) or _THE_DAY.search(text) or _ORDINAL_DAY.search(text) or _BARE_DAY.fullmatch(text)
    m = m or _THE_DAY_WORD.search(text)
    if not m:
        return None
    day = day_value(next(group for group in m.groups() if group))
    if day is None or not 1 <= day <= 31:
        return None
    if _NEXT_MONTH.search(text):
        return _lean(ask, _in_month(ask.today, 1, day), 1)
    if _LAST_MONTH.search(text):
        return _lean(ask, _in_month(ask.today, -1, day), -1)
    if _THIS_MONTH.search(text) or re.match(r"\s*ini\b", text[m.end() :]):
        return _in_month(ask.today, 0, day)
    strict = bool(_PAST_AFTER.search(text[m.end() :]) or _PAST_BEFORE.search(text[: m.start()]))
    if strict and not ask.past:
        return None
    side = _Ask(ask.today, ask.past or strict)

    def in_month(k: int) -> date | None:
        # "tgl 31" said on 30 November is the next 31st, not today as the end of the month.
        found = _in_month(ask.today, k, day)
        return None if found.day != day and found == ask.today else found

    candidates = list(islice(_nearest(side, in_month, strict=strict), 2))
    weekday = _named_weekday(text)
    for candidate in candidates:
        if weekday is not None and candidate.weekday() == weekday:
            return candidate
    return candidates[0]


def _named_weekday(text: str) -> int | None:
    """A weekday named beside a day of the month ("sabtu tgl 5"); "minggu" only as "hari minggu"."""
    m = re.search(rf"\b(?:hari\s+)?({WEEKDAY_RE})\b", text)
    if not m or (m.group(1) == "minggu" and not m.group(0).startswith("hari")):
        return None
    return WEEKDAYS[m.group(1)]


# --------------------------------------------------------------------------------------------
# The weekend and parts of a week: "weekend ini", "akhir pekan", "next weekend", "awal minggu depan"

_WEEKEND = r"(?:(?:akhir|ujung)\s+minggu|weekend)"
_WEEKEND_NEXT = re.compile(rf"\b{_WEEKEND}\s+(?:depan|besok)\b|\bnext\s+weekend\b|\bend\s+of\s+next\s+week\b")
_WEEKEND_LAST = re.compile(rf"\b{_WEEKEND}\s+(?:lalu|kemarin)\b|\b(?:last|past)\s+weekend\b|\bend\s+of\s+last\s+week\b")
_WEEKEND_THIS = re.compile(rf"\b{_WEEKEND}\b|\bend\s+of\s+(?:the\s+|this\s+)?week\b")
_WEEK_START_NEXT = re.compile(r"\bawal\s+minggu\s+depan\b|\b(?:early|beginning\s+of|start\s+of)\s+next\s+week\b")
_MIDWEEK_NEXT = re.compile(r"\b(?:pertengahan|tengah)\s+minggu\s+depan\b|\b(?:mid|middle\s+of)\s+next\s+week\b")

_SATURDAY = WEEKDAYS["sabtu"]


def _week_parts(text: str, ask: _Ask) -> date | None:
    today = ask.today
    if _WEEKEND_NEXT.search(text):
        return _lean(ask, _week_day(today, _SATURDAY, 1), 1)
    if _WEEKEND_LAST.search(text):
        return _lean(ask, _week_day(today, _SATURDAY, -1), -1)
    if _WEEK_START_NEXT.search(text):
        return _lean(ask, _week_day(today, WEEKDAYS["senin"], 1), 1)
    if _MIDWEEK_NEXT.search(text):
        return _lean(ask, _week_day(today, WEEKDAYS["rabu"], 1), 1)
    if _WEEKEND_THIS.search(text):
        if ask.past:
            return _near_weekday(today, _SATURDAY, past=True, today_counts=True)
        # A promise for the weekend starts on its first day; said on Sunday it is today.
        return today if today.weekday() == WEEKDAYS["minggu"] else _week_day(today, _SATURDAY)
    return None


# --------------------------------------------------------------------------------------------
# Parts of a month or year: "akhir bulan", "awal bln dpn", "pertengahan bulan", "mid december"

_PART_DAY = {
    "awal": 1, "early": 1, "beginning of": 1, "start of": 1,
    "pertengahan": 15, "tengah": 15, "mid": 15, "middle of": 15,
    "akhir": 31, "ujung": 31, "end of": 31,
}  # fmt: skip
_WHICH = {"ini": 0, "this": 0, "depan": 1, "besok": 1, "next": 1, "lalu": -1, "kemarin": -1, "last": -1}
_ID_PART = re.compile(
    rf"\b(?P<part>awal|pertengahan|tengah|akhir|ujung)\s+(?P<unit>bulan|tahun|{MONTH_RE})(?![a-z])"
    r"(?:\s+(?P<which>ini|depan|besok|lalu|kemarin)\b)?"
)
_EN_PART = re.compile(
    r"\b(?P<part>early|beginning\s+of|start\s+of|mid|middle\s+of|end\s+of)\s+(?:the\s+)?"
    rf"(?:(?P<which>this|next|last)\s+)?(?P<unit>month|year|{MONTH_RE})(?![a-z])"
)


def _month_parts(text: str, ask: _Ask) -> date | None:
    m = _ID_PART.search(text) or _EN_PART.search(text)
    if not m:
        if re.search(r"\bmonth[- ]end\b", text):
            return _first(_nearest(ask, lambda k: _in_month(ask.today, k, 31)))
        return None
    day = _PART_DAY[" ".join(m.group("part").split())]
    unit, which = m.group("unit"), _WHICH.get(m.group("which") or "")
    today = ask.today
    if unit in ("bulan", "month"):
        if which is not None:
            return _lean(ask, _in_month(today, which, day), which)
        return _first(_nearest(ask, lambda k: _in_month(today, k, day)))
    if unit in ("tahun", "year"):
        if day == 15:
            return None  # "pertengahan tahun" is no date a promise can hold
        month = 1 if day == 1 else 12
        if which is not None:
            return _lean(ask, _in_year(today.year + which, month, day, clamp=True), which)
        return _first(_nearest(ask, lambda k: _in_year(today.year + k, month, day, clamp=True)))
    month = MONTHS[unit]
    return _first(_nearest(ask, lambda k: _in_year(today.year + k, month, day, clamp=True)))


# --------------------------------------------------------------------------------------------
# Weekdays: "jumat", "jumat ini", "jumat depan", "jumat besok", "jumat kemarin", "next friday"

_WEEKDAY_PHRASE = re.compile(
    r"(?:\b(?P<pre>this\s+coming|coming|upcoming|this|next|last|past|besok|kemarin)\s+)?"
    rf"(?:\b(?P<hari>hari|on|by)\s+)?\b(?P<day>{WEEKDAY_RE})\b"
    r"(?:\s+(?P<post>minggu\s+ini|minggu\s+depan|minggu\s+lalu|minggu\s+kemarin|this\s+week|next\s+week"
    r"|last\s+week|ini|depan|besok|nanti|kemarin|lalu))?"
)
_NEXT_WEEK = re.compile(r"\b(?:minggu\s+depan|next\s+week)\b")
_LAST_WEEK = re.compile(r"\b(?:minggu\s+lalu|minggu\s+kemarin|last\s+week)\b")
_THIS_WEEK = re.compile(r"\b(?:minggu\s+ini|this\s+week)\b")


def _is_sunday(m: re.Match[str], text: str) -> bool:
    """The word "minggu" is mostly a week ("minggu depan" = next week); it is Sunday as "hari minggu",
    or as "minggu ini" (the end of this week, so Sunday either way)."""
    if m.group("day") != "minggu":
        return True
    before = text[: m.start()].split()[-1:]
    return m.group("hari") == "hari" or (m.group("post") == "ini" and before not in (["awal"], ["tengah"]))


def _weekday(text: str, ask: _Ask) -> date | None:
    matches = [m for m in _WEEKDAY_PHRASE.finditer(text) if _is_sunday(m, text)]
    if not matches:
        return None
    m = next((m for m in matches if m.group("day") != "minggu"), matches[0])
    if ask.past and m.group("day") == "minggu" and m.group("hari") != "hari":
        return None  # paid "minggu ini" is "this week", no day
    weekday, today = WEEKDAYS[m.group("day")], ask.today
    pre, post = " ".join((m.group("pre") or "").split()), " ".join((m.group("post") or "").split())
    if post in ("depan", "minggu depan", "next week") or pre == "next" or (not post and _NEXT_WEEK.search(text)):
        return _lean(ask, _week_day(today, weekday, 1), 1)
    if post in ("minggu lalu", "minggu kemarin", "last week") or (not post and not pre and _LAST_WEEK.search(text)):
        return _lean(ask, _week_day(today, weekday, -1), -1)
    if post in ("kemarin", "lalu") or pre in ("last", "past", "kemarin"):
        return _lean(ask, _near_weekday(today, weekday, past=True, today_counts=False), -1)
    if post in ("besok", "nanti") or pre in ("besok", "coming", "upcoming", "this coming"):
        return _lean(ask, _near_weekday(today, weekday, past=False, today_counts=False), 1)
    this = post in ("ini", "minggu ini", "this week") or pre == "this" or bool(_THIS_WEEK.search(text))
    return _near_weekday(today, weekday, past=ask.past, today_counts=this)


# --------------------------------------------------------------------------------------------
# Periods from today: "3 hari lagi", "seminggu lagi", "in 2 weeks", "bulan depan", "2 hari lalu"

_UNIT = r"(?P<unit>hari|days?|minggu|weeks?|bulan|months?|tahun|years?)\b"
_COUNT = rf"(?P<count>{COUNT_RE})"
_AHEAD = re.compile(
    rf"\b{_COUNT}\s*{_UNIT}\s*(?:lagi|kedepan|ke\s+depan|dari\s+sekarang|from\s+now|from\s+today|later)\b"
)
_WITHIN = re.compile(
    rf"\b(?:dalam|in|within|after|waktu|tunggu|tempo|give\s+me|need|(?:di)?mundur(?:in|kan)?|(?:di)?undur|"
    rf"(?:di)?tunda|perpanjang|tambah|another|extra)\s+{_COUNT}\s*{_UNIT}"
)
_MORE = re.compile(rf"\b{_COUNT}\s+(?:more|extra)\s+{_UNIT}")  # "2 more weeks"
_AGO = re.compile(rf"\b{_COUNT}\s*{_UNIT}\s*(?:lalu|ago|sebelumnya|before|kemarin)\b")
_SE_AHEAD = re.compile(
    r"\bse(?P<unit>hari|minggu|bulan|tahun)\s*(?:lagi|kedepan|ke\s+depan|dari\s+sekarang)\b"
    r"|(?<!kali\s)(?<!x\s)\b(?:dalam|waktu|tunggu|tempo|(?:di)?mundur(?:in|kan)?|(?:di)?undur|(?:di)?tunda"
    r"|perpanjang|tambah)\s+se(?P<unit2>hari|minggu|bulan|tahun)\b"
)
_SE_AGO = re.compile(r"\bse(?P<unit>hari|minggu|bulan|tahun)\s*(?:lalu|kemarin)\b")
_BARE_PERIOD = re.compile(
    rf"(?:{_COUNT}\s*(?P<unit>hari|minggu|days?|weeks?)|se(?P<unit2>hari|minggu|bulan))"
    r"(?:\s+(?:ya|aja|lagi|deh|pak|bu|kak))?"
)
_FORTNIGHT = re.compile(r"\b(?:in\s+|within\s+)?a\s+fortnight(?P<ago>\s+ago)?\b")
_FIXED_PERIODS: tuple[tuple[re.Pattern[str], relativedelta], ...] = (
    (re.compile(r"\b(?:minggu\s+depan|minggu\s+besok|next\s+week)\b"), relativedelta(weeks=1)),
    (re.compile(r"\b(?:minggu\s+lalu|minggu\s+kemarin|last\s+week)\b"), relativedelta(weeks=-1)),
    (re.compile(r"\b(?:bulan\s+lalu|bulan\s+kemarin|last\s+month)\b"), relativedelta(months=-1)),
    (re.compile(r"\b(?:tahun\s+depan|next\s+year)\b"), relativedelta(years=1)),
    (re.compile(r"\b(?:tahun\s+lalu|tahun\s+kemarin|last\s+year)\b"), relativedelta(years=-1)),
)


def _span(unit: str, n: int) -> relativedelta:
    if unit.startswith(("hari", "day")):
        return relativedelta(days=n)
    if unit.startswith(("minggu", "week")):
        return relativedelta(weeks=n)
    if unit.startswith(("bulan", "month")):
        return relativedelta(months=n)
    return relativedelta(years=n)


def _periods(text: str, ask: _Ask) -> date | None:
    """Only periods pointing the way of the question count: "udh tf kemarin, sisanya 2 hari lagi"."""
    today, sign = ask.today, -1 if ask.past else 1
    for pattern in (_AHEAD, _WITHIN, _MORE) if sign > 0 else (_AGO,):
        m = pattern.search(text)
        n = count_value(m.group("count")) if m else None
        if m and n is not None:
            return today + _span(m.group("unit"), sign * n)
    m = (_SE_AHEAD if sign > 0 else _SE_AGO).search(text)
    if m:
        return today + _span(m.group("unit") or m.group("unit2"), sign)
    m = _BARE_PERIOD.fullmatch(text)
    if m and sign > 0:
        n = count_value(m.group("count")) if m.group("count") else 1
        if n is not None:
            return today + _span(m.group("unit") or m.group("unit2"), n)
    m = _FORTNIGHT.search(text)
    if m and bool(m.group("ago")) == ask.past:
        return today + timedelta(days=14 * sign)
    for pattern, span in _FIXED_PERIODS:
        if pattern.search(text) and (today + span > today) == (sign > 0):
            return today + span
    if sign > 0 and _NEXT_MONTH.search(text) and not _PAYDAY.search(text):  # "gajian bulan depan": payday
        return today + relativedelta(months=1)
    return None


# --------------------------------------------------------------------------------------------
# Single days: "besok", "lusa", "kemarin", "kemarin lusa", "hari ini", "tadi pagi", "nanti sore"

_TODAY = re.compile(
    r"\b(?:hari\s+ini|sekarang|today|tonight|right\s+now|later\s+today|this\s+(?:morning|afternoon|evening)"
    r"|end\s+of\s+(?:the\s+)?day|eod|nanti\s+(?:pagi|siang|sore|malam|malem)"
    r"|(?<!makan\s)(?:pagi|siang|sore|malam|malem)\s+ini)\b"
)
# (pattern, days from today, the phrase's own direction)
_DAY_WORDS: tuple[tuple[re.Pattern[str], int, int], ...] = (
    (re.compile(r"\b(?:kemarin\s+lusa|day\s+before\s+yesterday)\b"), -2, -1),
    (re.compile(r"(?<!kemarin\s)\b(?:lusa|day\s+after\s+tomorrow|overmorrow)\b"), 2, 1),
    (re.compile(r"\b(?:kemarin|yesterday)\b"), -1, -1),
    (re.compile(r"\b(?:besok|tomorrow)\b"), 1, 1),
    (_TODAY, 0, 0),
    (re.compile(r"\b(?:tadi|barusan|just\s+now|earlier\s+today)\b"), 0, -1),  # earlier today
)


def _day_words(text: str, ask: _Ask) -> date | None:
    for pattern, days, sign in _DAY_WORDS:
        if pattern.search(text):
            found = _lean(ask, ask.today + timedelta(days=days), sign)
            if found is not None:
                return found
    return None


# --------------------------------------------------------------------------------------------
# Payday: "gajian", "pas gajian", "habis gajian", "on payday", "when I get paid"


def _payday(text: str, ask: _Ask) -> date | None:
    """The debtor's payday, when the caller knows it; explicit days in the text win (earlier rules)."""
    if ask.payday is None or ask.past or not _PAYDAY.search(text):
        return None
    if _NEXT_MONTH.search(text):
        return _in_month(ask.today, 1, ask.payday)
    return _first(_nearest(ask, lambda k: _in_month(ask.today, k, ask.payday or 1)))


_RULES: tuple[Rule, ...] = (
    _explicit_date,
    _day_of_month,
    _week_parts,
    _month_parts,
    _weekday,
    _periods,
    _day_words,
    _payday,
)


def _parse(text: str, ask: _Ask) -> date | None:
    norm = normalise(text)
    if not norm:
        return None
    for rule in _RULES:
        found = rule(norm, ask)
        if found is not None:
            return found
    return None


# --------------------------------------------------------------------------------------------
# Public API


def local_today(timezone: str, now: datetime | None = None) -> date:
    """The calendar day in the debtor's timezone; "besok" depends on where the debtor is."""
    current = now if now is not None else datetime.now(_tz.utc)
    if current.tzinfo is None or current.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return current.astimezone(ZoneInfo(timezone)).date()


def parse_due_date(text: str, *, today: date, language: str = "id", payday: int | None = None) -> date | None:
    """The payment date a debtor promises in free chat text, or None when there is none.

    Explicit dates are returned even when already past so callers can tell the debtor why a
    promise was rejected (see ``promise_problem``) instead of silently ignoring it. ``payday`` is
    the debtor's payday as a day of the month, when known; without it "pas gajian" is no date.
    ``language`` is accepted for callers' symmetry: the phrases of both languages are always read.
    """
    if payday is not None and not 1 <= payday <= 31:
        raise ValueError(f"payday must be a day of the month, got {payday}")
    return _parse(text, _Ask(today=today, past=False, payday=payday))


def parse_paid_date(text: str, *, today: date, language: str = "id") -> date | None:
    """The day a debtor says they already paid ("udh tf td pagi", "kemarin", "tgl 20"): open
    references mean the most recent such day on or before today. A date the debtor places in the
    future ("besok", "30-11-2026") is returned as written so the caller can reject it."""
    return _parse(text, _Ask(today=today, past=True))


def parse_birth_date(text: str, *, today: date | None = None) -> date | None:
    """A date of birth from an identity-check answer; numeric forms are day-month-year.

    Only dates after 1900 and before today are accepted, so a typo is asked again rather than
    compared against the records.
    """
    current = today or date.today()
    norm = normalise(text)
    candidates: list[date | None] = []
    m = re.search(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)", norm)
    if m:
        candidates.append(_safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    m = re.search(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?!\d)", norm)
    if m:
        year = int(m.group(3))
        if year < 100:
            year += 2000 if 2000 + year <= current.year else 1900
        candidates.append(_safe_date(year, int(m.group(2)), int(m.group(1))))
    m = re.search(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?[\s-]*({MONTH_RE})\.?[\s,-]*(\d{{4}})(?!\d)", norm)
    if m:
        candidates.append(_safe_date(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1))))
    m = re.search(rf"(?<![a-z])({MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(\d{{4}})(?!\d)", norm)
    if m:
        candidates.append(_safe_date(int(m.group(3)), MONTHS[m.group(1)], int(m.group(2))))
    for candidate in candidates:
        if candidate is not None and date(1900, 1, 1) < candidate < current:
            return candidate
    return None


def format_date(d: date, language: str) -> str:
    """A date as debtors read it ("25 Desember 2026"); numeric forms are ambiguous across locales."""
    return _babel_format_date(d, "d MMMM y", locale=_locale(language))


def format_weekday_date(d: date, language: str) -> str:
    """With the weekday ("Jumat, 25 Desember 2026") so a promise is easy to confirm."""
    return _babel_format_date(d, "EEEE, d MMMM y", locale=_locale(language))


def _locale(language: str) -> str:
    return "id_ID" if language.lower().startswith("id") else "en_GB" if language.lower() == "en" else language
