"""Dates debtors mention in chat, and how we show dates back to them.

A promise to pay is only useful when it becomes a calendar date in the debtor's own timezone, so
everything here is relative to an explicit ``today`` (never the server clock).  dateparser handles
explicit calendar dates well but misses most Indonesian relative phrases ("lusa", "senin depan",
"3 hari lagi", "akhir bulan") and happily reads amounts such as "500rb" as days, so we normalise
chat spelling first, apply our own rules, and use dateparser only as a guarded last resort.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import timezone as _tz
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_format_date
from dateutil.relativedelta import relativedelta

from bot.domain._numwords import EN_NUMBER_PATTERN, ID_NUMBER_PATTERN, word_to_int

__all__ = [
    "format_date",
    "format_weekday_date",
    "local_today",
    "parse_birth_date",
    "parse_due_date",
]

# --------------------------------------------------------------------------------------------
# Vocabulary

MONTHS: dict[str, int] = {
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "pebruari": 2, "february": 2, "feb": 2, "peb": 2,
    "maret": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "agustus": 8, "august": 8, "agu": 8, "agt": 8, "ags": 8, "agst": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nopember": 11, "nov": 11, "nop": 11,
    "desember": 12, "december": 12, "des": 12, "dec": 12,
}  # fmt: skip

WEEKDAYS: dict[str, int] = {
    "senin": 0, "monday": 0, "mon": 0,
    "selasa": 1, "tuesday": 1, "tue": 1, "tues": 1,
    "rabu": 2, "wednesday": 2, "wed": 2,
    "kamis": 3, "thursday": 3, "thu": 3, "thurs": 3,
    "jumat": 4, "friday": 4, "fri": 4,
    "sabtu": 5, "saturday": 5, "sat": 5,
    "minggu": 6, "ahad": 6, "sunday": 6, "sun": 6,
}  # fmt: skip

_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_COUNT_RE = rf"(\d{{1,3}}|{ID_NUMBER_PATTERN}|{EN_NUMBER_PATTERN})"

# Chat spelling -> formal words, applied on word boundaries after lower-casing.
_SPELLING: list[tuple[str, str]] = [
    (r"jum['`’]?at", "jumat"),
    (r"tgl\.?|tggl|tangal|tanggalnya|tglnya", "tanggal"),
    (r"bsk|besuk|bsok|besoknya|bsoknya", "besok"),
    (r"skrg|skrng|skr|skarang|sekarng|skrang", "sekarang"),
    (r"bln|bulanan", "bulan"),
    (r"mgg|mingu|mnggu", "minggu"),
    (r"hr", "hari"),
    (r"dpn|dpan", "depan"),
    (r"lg|lgi", "lagi"),
    (r"ni|nih", "ini"),
    (r"akir|ahir", "akhir"),
    (r"sen", "senin"),
    (r"sel", "selasa"),
    (r"sab", "sabtu"),
    (r"jmt|jum", "jumat"),
    (r"pekan", "minggu"),
    (r"tmrw|tmr|tomorow|tommorow|tommorrow|tomorrows", "tomorrow"),
    (r"nxt", "next"),
]


def _normalise(text: str) -> str:
    """Lower-case, unify chat spelling and whitespace so the rules below stay readable."""
    out = text.lower().replace("’", "'").replace("`", "'")
    out = re.sub(r"jum'?at\b", "jumat", out)
    for pattern, replacement in _SPELLING:
        out = re.sub(rf"(?<![\w']){pattern}(?![\w'])", replacement, out)
    return " ".join(out.split())


# --------------------------------------------------------------------------------------------
# Calendar helpers


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _month_end(d: date) -> date:
    return d.replace(day=_last_day(d.year, d.month))


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _day_of_month(today: date, day: int, *, months_ahead: int = 0, roll: bool = True) -> date | None:
    """The date with this day of month; a day already past this month means next month.

    Days beyond a short month ("tgl 31" in November) are clamped to its last day: debtors who
    say 31 mean "the end of the month", not "skip to December".
    """
    if not 1 <= day <= 31:
        return None
    base = today.replace(day=1) + relativedelta(months=months_ahead)
    candidate = base.replace(day=min(day, _last_day(base.year, base.month)))
    if roll and months_ahead == 0 and candidate < today:
        base = base + relativedelta(months=1)
        candidate = base.replace(day=min(day, _last_day(base.year, base.month)))
    return candidate


def _next_day_month(today: date, day: int, month: int) -> date | None:
    """The next occurrence (today included) of a day and month given without a year."""
    for year in (today.year, today.year + 1, today.year + 2, today.year + 3, today.year + 4):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def _full_year(year: int) -> int:
    """Two-digit years in a payment promise are this century."""
    return 2000 + year if year < 100 else year


def _weekday(today: date, weekday: int, modifier: str | None) -> date:
    """Resolve a weekday name.

    Plain names mean the next occurrence after today; "ini"/"this" lets today count; "depan"/
    "next" means that weekday in next (Monday-based) week, which is what "senin depan" means.
    """
    delta = (weekday - today.weekday()) % 7
    if modifier in ("depan", "next", "minggu depan", "next week"):
        monday_next_week = today + timedelta(days=7 - today.weekday())
        return monday_next_week + timedelta(days=weekday)
    if modifier in ("ini", "this"):
        return today + timedelta(days=delta)
    return today + timedelta(days=delta or 7)


def _count(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    if word in ("se", "sa"):
        return 1
    return word_to_int(word)


# --------------------------------------------------------------------------------------------
# Rules. Each takes the normalised text and today and returns a date or None.

Rule = Callable[[str, date], "date | None"]

_NOT_AMOUNT = r"(?!\s*(?:rb|ribu|k|jt|juta|%|x\b|kali))"


def _iso(text: str, today: date) -> date | None:
    m = re.search(r"(?<![\d.,/-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d/-])", text)
    return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def _numeric_dmy(text: str, today: date) -> date | None:
    m = re.search(r"(?<![\d.,/-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.-]*\d)", text)
    if m:
        return _safe_date(_full_year(int(m.group(4))), int(m.group(3)), int(m.group(1)))
    # Day/month without a year; '.' is excluded because "1.5" is an amount, not a date.
    m = re.search(r"(?<![\d.,/-])(\d{1,2})[/-](\d{1,2})(?![\d/-])" + _NOT_AMOUNT, text)
    if m and 1 <= int(m.group(2)) <= 12:
        return _next_day_month(today, int(m.group(1)), int(m.group(2)))
    return None


def _day_month_name(text: str, today: date) -> date | None:
    m = re.search(
        rf"(?<![\d.,])(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s*-?\s*({_MONTH_RE})\.?(?![a-z])"
        rf"(?:\s*,?\s*(\d{{4}}))?",
        text,
    )
    if m:
        day, month = int(m.group(1)), MONTHS[m.group(2)]
    else:
        m = re.search(
            rf"(?<![a-z])({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?![\d.,])(?:\s*,?\s*(\d{{4}}))?",
            text,
        )
        if not m:
            return None
        day, month = int(m.group(2)), MONTHS[m.group(1)]
    if m.group(3):
        return _safe_date(int(m.group(3)), month, day)
    return _next_day_month(today, day, month)


def _tanggal(text: str, today: date) -> date | None:
    m = re.search(
        r"(?:\btanggal|\bdate|\bthe|\bon)\s+(\d{1,2})(?:st|nd|rd|th)?(?![\d.,/:])"
        r"(?:\s+(bulan\s+depan|next\s+month|bulan\s+ini|this\s+month|ini))?" + _NOT_AMOUNT,
        text,
    )
    if not m:
        m = re.search(r"(?<![\w.,])(\d{1,2})(st|nd|rd|th)(?![\w])", text)
        if not m:
            return None
        return _day_of_month(today, int(m.group(1)))
    day, qualifier = int(m.group(1)), m.group(2)
    if qualifier in ("bulan depan", "next month"):
        return _day_of_month(today, day, months_ahead=1)
    if qualifier in ("bulan ini", "this month", "ini"):
        return _day_of_month(today, day, roll=False)
    return _day_of_month(today, day)


def _month_edges(text: str, today: date) -> date | None:
    if re.search(r"\b(akhir|end of( the)?|ujung)\s+bulan\s+depan\b|\bend of next month\b", text):
        return _month_end(today + relativedelta(months=1))
    if re.search(r"\b(akhir|ujung)\s+bulan\b|\bend of( the)? month\b|\bmonth[- ]end\b", text):
        return _month_end(today)
    if re.search(r"\b(awal|early|start of( the)?|beginning of( the)?)\s+(bulan|month)\b", text) or re.search(
        r"\b(awal|early)\s+next\s+month\b", text
    ):
        if re.search(r"\b(bulan|month)\s+ini\b|\bthis month\b", text) and today.day == 1:
            return today
        return today.replace(day=1) + relativedelta(months=1)
    return None


def _relative(text: str, today: date) -> date | None:
    """Offsets from today: "3 hari lagi", "seminggu lagi", "in 2 weeks", "bulan depan"."""
    m = re.search(rf"(?:\b(?:dalam|in)\s+)?\b{_COUNT_RE}\s*(hari|days?|minggu|weeks?|bulan|months?)\s*"
                  r"(lagi|kedepan|ke depan|from now|later)", text)  # fmt: skip
    if not m:
        m = re.search(rf"\b(?:dalam|in)\s+{_COUNT_RE}\s*(hari|days?|minggu|weeks?|bulan|months?)\b()", text)
    if m:
        n = _count(m.group(1))
        if n is not None:
            unit = m.group(2)
            if unit.startswith(("hari", "day")):
                return today + timedelta(days=n)
            if unit.startswith(("minggu", "week")):
                return today + timedelta(weeks=n)
            return today + relativedelta(months=n)
    m = re.search(r"\b(se|sa)(hari|minggu|bulan)\s*(lagi|kedepan|ke depan)?\b", text)
    if m and (m.group(3) or re.search(rf"\b(dalam|in)\s+se{m.group(2)}\b", text)):
        unit = m.group(2)
        if unit == "hari":
            return today + timedelta(days=1)
        if unit == "minggu":
            return today + timedelta(weeks=1)
        return today + relativedelta(months=1)
    if re.search(r"\b(minggu depan|next week)\b", text) and not re.search(
        rf"\b({_WEEKDAY_RE})\b", text.replace("minggu depan", "")
    ):
        return today + timedelta(weeks=1)
    if re.search(r"\b(bulan depan|next month)\b", text):
        return today + relativedelta(months=1)
    return None


def _simple_words(text: str, today: date) -> date | None:
    if re.search(r"\b(besok lusa|lusa|day after tomorrow)\b", text):
        return today + timedelta(days=2)
    if re.search(r"\b(besok|tomorrow)\b", text):
        return today + timedelta(days=1)
    if re.search(
        r"\b(hari ini|sekarang|today|tonight|right now|this (morning|afternoon|evening)"
        r"|(nanti|entar|ntar|ntr)\s+(pagi|siang|sore|malam|malem)|(pagi|siang|sore|malam|malem)\s+ini)\b",
        text,
    ):
        return today
    return None


def _weekday_rule(text: str, today: date) -> date | None:
    m = re.search(
        rf"(?:\b(this|next|coming)\s+)?\b({_WEEKDAY_RE})\b(?:\s+(ini|depan|this week|next week|minggu depan))?",
        text,
    )
    if not m:
        return None
    name = m.group(2)
    # "minggu" alone is a week; it is Sunday only as "hari minggu" or "minggu ini".
    if name == "minggu" and not (re.search(r"\bhari\s+minggu\b", text) or m.group(3) == "ini" or m.group(1)):
        return None
    modifier = m.group(3) or m.group(1)
    if modifier == "coming":
        modifier = None
    if modifier == "this week":
        modifier = "ini"
    return _weekday(today, WEEKDAYS[name], modifier)


def _bare_day(text: str, today: date) -> date | None:
    """A message that is nothing but a day number ("25", "tgl 25 ya") is a day of the month."""
    m = re.fullmatch(
        r"(?:tanggal\s+)?(\d{1,2})(?:st|nd|rd|th)?\s*(?:ya|yaa|aja|saja|ok|oke|deh|pak|bu|kak)?\s*[.!]*", text
    )
    return _day_of_month(today, int(m.group(1))) if m else None


_RULES: tuple[Rule, ...] = (
    _iso,
    _numeric_dmy,
    _day_month_name,
    _tanggal,
    _month_edges,
    _relative,
    _simple_words,
    _weekday_rule,
    _bare_day,
)


def _dateparser_fallback(text: str, today: date, language: str) -> date | None:
    """Last resort for explicit dates our rules missed, e.g. "the twenty-fifth of december".

    dateparser reads bare numbers ("500") and amounts as dates, so only texts that contain a
    letter and no digit run that looks like money are handed to it.
    """
    if not re.search(r"[a-z]", text) or re.search(r"\d", text):
        return None
    import dateparser  # deferred: loading its language data costs ~0.4 s

    languages = ["id", "en"] if language == "id" else ["en", "id"]
    parsed = dateparser.parse(
        text,
        languages=languages,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": datetime(today.year, today.month, today.day),
            "DATE_ORDER": "DMY",
            "REQUIRE_PARTS": ["day"],
        },
    )
    return parsed.date() if parsed else None


# --------------------------------------------------------------------------------------------
# Public API


def local_today(timezone: str, now: datetime | None = None) -> date:
    """The calendar day in the debtor's timezone; "besok" depends on where the debtor is."""
    current = now if now is not None else datetime.now(_tz.utc)
    if current.tzinfo is None or current.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return current.astimezone(ZoneInfo(timezone)).date()


def parse_due_date(text: str, *, today: date, language: str = "id") -> date | None:
    """The payment date a debtor mentions in free chat text, or None when there is none.

    Explicit dates are returned even when already past so callers can tell the debtor why a
    promise was rejected (see ``promise_problem``) instead of silently ignoring it.
    """
    norm = _normalise(text)
    if not norm:
        return None
    for rule in _RULES:
        found = rule(norm, today)
        if found is not None:
            return found
    return _dateparser_fallback(norm, today, language)


_PAST_TODAY = re.compile(
    r"\b(tadi|td|barusan|hari ini|hr ini|pagi ini|siang ini|sore ini|malam ini|today|just now|this morning)\b"
)
_PAST_YESTERDAY = re.compile(r"\b(kemarin|kemaren|kmrn|kmren|kmarin|yesterday)\b")
_PAST_AGO = re.compile(rf"\b{_COUNT_RE}\s*(hari|hr|minggu|mgg|days?|weeks?)\s*(yang\s+|yg\s+)?(lalu|ago)\b")
_PAST_LAST_WEEK = re.compile(r"\b(minggu lalu|seminggu lalu|last week)\b")
_HAS_WEEKDAY = re.compile(rf"\b({_WEEKDAY_RE})\b")


def parse_paid_date(text: str, *, today: date, language: str = "id") -> date | None:
    """The day a debtor says they already paid ("udh tf td pagi", "kemarin", "tgl 20"): the most
    recent such day on or before today. An explicit full date is returned as written, even in the
    future, so the caller can reject it."""
    norm = _normalise(text)
    if not norm:
        return None
    if _PAST_YESTERDAY.search(norm):
        return today - timedelta(days=2 if "lusa" in norm else 1)
    ago = _PAST_AGO.search(norm)
    if ago:
        count = _count(ago.group(1))
        if count is not None:
            unit = ago.group(2)
            return today - timedelta(days=count * (7 if unit.startswith(("m", "w")) else 1))
    if _PAST_LAST_WEEK.search(norm):
        return today - timedelta(days=7)
    if _PAST_TODAY.search(norm):
        return today
    found = parse_due_date(text, today=today, language=language)
    if found is None or found <= today or re.search(r"\b(19|20)\d{2}\b", norm):
        return found
    if _HAS_WEEKDAY.search(norm):
        return found - timedelta(days=7 * ((found - today).days // 7 + 1))
    if (found - today).days <= 31:
        return found - relativedelta(months=1)
    return found - relativedelta(years=1)


def parse_birth_date(text: str, *, today: date | None = None) -> date | None:
    """A date of birth from an identity-check answer; numeric forms are day-month-year.

    Only dates after 1900 and before today are accepted, so a typo is asked again rather than
    compared against the records.
    """
    current = today or date.today()
    norm = _normalise(text)
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
    m = re.search(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?[\s-]*({_MONTH_RE})\.?[\s,-]*(\d{{4}})(?!\d)", norm)
    if m:
        candidates.append(_safe_date(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1))))
    m = re.search(rf"(?<![a-z])({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(\d{{4}})(?!\d)", norm)
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
