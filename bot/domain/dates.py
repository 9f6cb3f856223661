"""Dates debtors mention in chat, and how we show dates back to them.

A promise to pay is only useful when it becomes a calendar date in the debtor's own timezone, so
everything here is relative to an explicit ``today`` (never the server clock). Chat spelling is
folded first (``_date_words``), then the rules (``_date_rules``, in order) read the phrase the way an experienced
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

import re
from datetime import date, datetime
from datetime import timezone as _tz
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_format_date

from bot.domain._date_calendar import Ask, safe_date
from bot.domain._date_rules import parse as _parse
from bot.domain._date_words import MONTH_RE, MONTHS, WEEKDAYS, normalise

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
    return _parse(text, Ask(today=today, past=False, payday=payday))


def parse_paid_date(text: str, *, today: date, language: str = "id") -> date | None:
    """The day a debtor says they already paid ("udh tf td pagi", "kemarin", "tgl 20"): open
    references mean the most recent such day on or before today. A date the debtor places in the
    future ("besok", "30-11-2026") is returned as written so the caller can reject it."""
    return _parse(text, Ask(today=today, past=True))


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
        candidates.append(safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    m = re.search(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?!\d)", norm)
    if m:
        year = int(m.group(3))
        if year < 100:
            year += 2000 if 2000 + year <= current.year else 1900
        candidates.append(safe_date(year, int(m.group(2)), int(m.group(1))))
    m = re.search(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?[\s-]*({MONTH_RE})\.?[\s,-]*(\d{{4}})(?!\d)", norm)
    if m:
        candidates.append(safe_date(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1))))
    m = re.search(rf"(?<![a-z])({MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(\d{{4}})(?!\d)", norm)
    if m:
        candidates.append(safe_date(int(m.group(3)), MONTHS[m.group(1)], int(m.group(2))))
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
