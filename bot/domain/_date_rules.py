"""The phrase rules that turn a debtor's chat text into a date, tried in order (explicit dates first,
then days of the month, parts of weeks and months, weekdays, periods, day words and payday): the
first that recognises the phrase wins. What each phrase means is the table in ``bot.domain.dates``."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from itertools import islice

from dateutil.relativedelta import relativedelta

from bot.domain import _date_calendar as cal
from bot.domain._date_calendar import Ask
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

Rule = Callable[[str, Ask], "date | None"]


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


def _explicit_date(text: str, ask: Ask) -> date | None:
    m = _ISO.search(text)
    if m:
        return cal.safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _DMY.search(text)
    if m:
        return cal.safe_date(cal.full_year(int(m.group(4))), int(m.group(3)), int(m.group(1)))
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
            return cal.safe_date(int(year), month, day)
    behind = bool(_PAST_AFTER.search(text[m.end() :]) or _PAST_BEFORE.search(text[: m.start()]))
    side = Ask(ask.today, ask.past or behind)
    found = cal.first(
        cal.nearest(side, lambda k: cal.in_year(ask.today.year + k, month, day, clamp=False), strict=behind)
    )
    return cal.lean(ask, found, -1 if behind else 0)


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


def _day_of_month(text: str, ask: Ask) -> date | None:
    m = _TANGGAL.search(text) or _THE_DAY.search(text) or _ORDINAL_DAY.search(text) or _BARE_DAY.fullmatch(text)
    m = m or _THE_DAY_WORD.search(text)
    if not m:
        return None
    day = day_value(next(group for group in m.groups() if group))
    if day is None or not 1 <= day <= 31:
        return None
    if _NEXT_MONTH.search(text):
        return cal.lean(ask, cal.in_month(ask.today, 1, day), 1)
    if _LAST_MONTH.search(text):
        return cal.lean(ask, cal.in_month(ask.today, -1, day), -1)
    if _THIS_MONTH.search(text) or re.match(r"\s*ini\b", text[m.end() :]):
        return cal.in_month(ask.today, 0, day)
    strict = bool(_PAST_AFTER.search(text[m.end() :]) or _PAST_BEFORE.search(text[: m.start()]))
    if strict and not ask.past:
        return None
    side = Ask(ask.today, ask.past or strict)

    def in_month(k: int) -> date | None:
        # "tgl 31" said on 30 November is the next 31st, not today as the end of the month.
        found = cal.in_month(ask.today, k, day)
        return None if found.day != day and found == ask.today else found

    candidates = list(islice(cal.nearest(side, in_month, strict=strict), 2))
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


def _week_parts(text: str, ask: Ask) -> date | None:
    today = ask.today
    if _WEEKEND_NEXT.search(text):
        return cal.lean(ask, cal.week_day(today, _SATURDAY, 1), 1)
    if _WEEKEND_LAST.search(text):
        return cal.lean(ask, cal.week_day(today, _SATURDAY, -1), -1)
    if _WEEK_START_NEXT.search(text):
        return cal.lean(ask, cal.week_day(today, WEEKDAYS["senin"], 1), 1)
    if _MIDWEEK_NEXT.search(text):
        return cal.lean(ask, cal.week_day(today, WEEKDAYS["rabu"], 1), 1)
    if _WEEKEND_THIS.search(text):
        if ask.past:
            return cal.near_weekday(today, _SATURDAY, past=True, today_counts=True)
        # A promise for the weekend starts on its first day; said on Sunday it is today.
        return today if today.weekday() == WEEKDAYS["minggu"] else cal.week_day(today, _SATURDAY)
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


def _month_parts(text: str, ask: Ask) -> date | None:
    m = _ID_PART.search(text) or _EN_PART.search(text)
    if not m:
        if re.search(r"\bmonth[- ]end\b", text):
            return cal.first(cal.nearest(ask, lambda k: cal.in_month(ask.today, k, 31)))
        return None
    day = _PART_DAY[" ".join(m.group("part").split())]
    unit, which = m.group("unit"), _WHICH.get(m.group("which") or "")
    today = ask.today
    if unit in ("bulan", "month"):
        if which is not None:
            return cal.lean(ask, cal.in_month(today, which, day), which)
        return cal.first(cal.nearest(ask, lambda k: cal.in_month(today, k, day)))
    if unit in ("tahun", "year"):
        if day == 15:
            return None  # "pertengahan tahun" is no date a promise can hold
        month = 1 if day == 1 else 12
        if which is not None:
            return cal.lean(ask, cal.in_year(today.year + which, month, day, clamp=True), which)
        return cal.first(cal.nearest(ask, lambda k: cal.in_year(today.year + k, month, day, clamp=True)))
    month = MONTHS[unit]
    return cal.first(cal.nearest(ask, lambda k: cal.in_year(today.year + k, month, day, clamp=True)))


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


def _weekday(text: str, ask: Ask) -> date | None:
    matches = [m for m in _WEEKDAY_PHRASE.finditer(text) if _is_sunday(m, text)]
    if not matches:
        return None
    m = next((m for m in matches if m.group("day") != "minggu"), matches[0])
    if ask.past and m.group("day") == "minggu" and m.group("hari") != "hari":
        return None  # paid "minggu ini" is "this week", no day
    weekday, today = WEEKDAYS[m.group("day")], ask.today
    pre, post = " ".join((m.group("pre") or "").split()), " ".join((m.group("post") or "").split())
    if post in ("depan", "minggu depan", "next week") or pre == "next" or (not post and _NEXT_WEEK.search(text)):
        return cal.lean(ask, cal.week_day(today, weekday, 1), 1)
    if post in ("minggu lalu", "minggu kemarin", "last week") or (not post and not pre and _LAST_WEEK.search(text)):
        return cal.lean(ask, cal.week_day(today, weekday, -1), -1)
    if post in ("kemarin", "lalu") or pre in ("last", "past", "kemarin"):
        return cal.lean(ask, cal.near_weekday(today, weekday, past=True, today_counts=False), -1)
    if post in ("besok", "nanti") or pre in ("besok", "coming", "upcoming", "this coming"):
        return cal.lean(ask, cal.near_weekday(today, weekday, past=False, today_counts=False), 1)
    this = post in ("ini", "minggu ini", "this week") or pre == "this" or bool(_THIS_WEEK.search(text))
    return cal.near_weekday(today, weekday, past=ask.past, today_counts=this)


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


def _periods(text: str, ask: Ask) -> date | None:
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


def _day_words(text: str, ask: Ask) -> date | None:
    for pattern, days, sign in _DAY_WORDS:
        if pattern.search(text):
            found = cal.lean(ask, ask.today + timedelta(days=days), sign)
            if found is not None:
                return found
    return None


# --------------------------------------------------------------------------------------------
# Payday: "gajian", "pas gajian", "habis gajian", "on payday", "when I get paid"


def _payday(text: str, ask: Ask) -> date | None:
    """The debtor's payday, when the caller knows it; explicit days in the text win (earlier rules)."""
    if ask.payday is None or ask.past or not _PAYDAY.search(text):
        return None
    if _NEXT_MONTH.search(text):
        return cal.in_month(ask.today, 1, ask.payday)
    return cal.first(cal.nearest(ask, lambda k: cal.in_month(ask.today, k, ask.payday or 1)))


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


def parse(text: str, ask: Ask) -> date | None:
    norm = normalise(text)
    if not norm:
        return None
    for rule in _RULES:
        found = rule(norm, ask)
        if found is not None:
            return found
    return None
