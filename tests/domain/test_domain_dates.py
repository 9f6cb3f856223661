"""Due dates and birth dates from chat text, against a fixed clock (Monday 23 November 2026)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import format_date, format_weekday_date, local_today, parse_birth_date, parse_due_date

MONDAY = date(2026, 11, 23)
FRIDAY = date(2026, 11, 27)

DUE_DATES_ON_MONDAY: list[tuple[str, date]] = [
    ("tgl 25", date(2026, 11, 25)),
    ("tanggal 25", date(2026, 11, 25)),
    ("tgl. 25", date(2026, 11, 25)),
    ("tgl 25 ini", date(2026, 11, 25)),
    ("tgl 5 bulan depan", date(2026, 12, 5)),
    ("tgl 5 bln depan", date(2026, 12, 5)),
    ("tgl 20", date(2026, 12, 20)),  # already past this month -> next month
    ("tgl 23", MONDAY),
    ("tgl 31", date(2026, 11, 30)),  # November has 30 days: the end of the month
    ("gajian tgl 1", date(2026, 12, 1)),
    ("25", date(2026, 11, 25)),
    ("25 ya", date(2026, 11, 25)),
    ("besok", date(2026, 11, 24)),
    ("bsk", date(2026, 11, 24)),
    ("Besok pagi", date(2026, 11, 24)),
    ("lusa", date(2026, 11, 25)),
    ("hari ini", MONDAY),
    ("skrg", MONDAY),
    ("nanti sore", MONDAY),
    ("jumat ini", FRIDAY),
    ("jum'at", FRIDAY),
    ("Jum’at ya", FRIDAY),
    ("hari jumat", FRIDAY),
    ("hari senin", date(2026, 11, 30)),  # plain weekday: today does not count
    ("senin depan", date(2026, 11, 30)),
    ("selasa", date(2026, 11, 24)),
    ("sabtu depan", date(2026, 12, 5)),
    ("hari minggu", date(2026, 11, 29)),
    ("minggu depan", date(2026, 11, 30)),
    ("minggu dpn", date(2026, 11, 30)),
    ("seminggu lagi", date(2026, 11, 30)),
    ("2 minggu lagi", date(2026, 12, 7)),
    ("dua minggu lagi", date(2026, 12, 7)),
    ("3 hari lagi", date(2026, 11, 26)),
    ("tiga hari lagi", date(2026, 11, 26)),
    ("dalam 2 minggu", date(2026, 12, 7)),
    ("sebulan lagi", date(2026, 12, 23)),
    ("bulan depan", date(2026, 12, 23)),
    ("akhir bulan", date(2026, 11, 30)),
    ("akhir bln", date(2026, 11, 30)),
    ("akhir bulan depan", date(2026, 12, 31)),
    ("awal bulan depan", date(2026, 12, 1)),
    ("25/12", date(2026, 12, 25)),
    ("25-12", date(2026, 12, 25)),
    ("1/11", date(2027, 11, 1)),  # already past this year -> next year
    ("25-12-2026", date(2026, 12, 25)),
    ("25/12/26", date(2026, 12, 25)),
    ("25.12.2026", date(2026, 12, 25)),
    ("25 des", date(2026, 12, 25)),
    ("25 desember", date(2026, 12, 25)),
    ("25 Desember 2026", date(2026, 12, 25)),
    ("5 jan", date(2027, 1, 5)),
    ("2026-12-25", date(2026, 12, 25)),
    ("tomorrow", date(2026, 11, 24)),
    ("today", MONDAY),
    ("this friday", FRIDAY),
    ("next monday", date(2026, 11, 30)),
    ("in 3 days", date(2026, 11, 26)),
    ("in two weeks", date(2026, 12, 7)),
    ("next week", date(2026, 11, 30)),
    ("end of the month", date(2026, 11, 30)),
    ("on the 25th", date(2026, 11, 25)),
    ("Dec 25", date(2026, 12, 25)),
    ("December 25th, 2026", date(2026, 12, 25)),
    ("25 December", date(2026, 12, 25)),
    # embedded in sentences
    ("ok sy bayar tgl 25 ya", date(2026, 11, 25)),
    ("insyaallah besok sy transfer 500rb", date(2026, 11, 24)),
    ("sy bayar 500rb tgl 25", date(2026, 11, 25)),
    ("bayar 1,5jt tgl 5 bulan depan ya kak", date(2026, 12, 5)),
    ("bs sy bayar 2 minggu lg?", date(2026, 12, 7)),
    ("I'll pay on friday", FRIDAY),
    ("I can pay 750,000 on the 25th", date(2026, 11, 25)),
    ("will transfer tmrw", date(2026, 11, 24)),
]


@pytest.mark.parametrize(("text", "expected"), DUE_DATES_ON_MONDAY)
def test_due_date_phrases(text: str, expected: date) -> None:
    # The rules read both languages whatever the conversation language is: debtors mix them.
    assert parse_due_date(text, today=MONDAY, language="id") == expected
    assert parse_due_date(text, today=MONDAY, language="en") == expected


@pytest.mark.parametrize(
    "text",
    ["nanti aja", "ok", "500rb", "1,5jt", "Rp 1.500.000", "1.5jt", "ya", "3x", "2 kali", "", "   ", "bisa dicicil?",
     "sy blm ada uang", "081234567890", "tagihan sy brp?"],
)  # fmt: skip
def test_no_due_date(text: str) -> None:
    assert parse_due_date(text, today=MONDAY) is None


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("jumat ini", FRIDAY, FRIDAY),
        ("this friday", FRIDAY, FRIDAY),
        ("jumat", FRIDAY, date(2026, 12, 4)),  # plain weekday on that weekday: next week
        ("senin depan", FRIDAY, date(2026, 11, 30)),
        ("next monday", FRIDAY, date(2026, 11, 30)),
        ("akhir bulan", date(2026, 11, 30), date(2026, 11, 30)),
        ("akhir bulan", date(2026, 2, 10), date(2026, 2, 28)),
        ("akhir bulan", date(2028, 2, 10), date(2028, 2, 29)),
        ("end of the month", date(2026, 12, 31), date(2026, 12, 31)),
        ("awal bulan depan", date(2026, 12, 31), date(2027, 1, 1)),
        ("tgl 5", date(2026, 12, 28), date(2027, 1, 5)),
        ("besok", date(2026, 12, 31), date(2027, 1, 1)),
        ("tgl 30 bulan depan", date(2027, 1, 15), date(2027, 2, 28)),
        ("bulan depan", date(2027, 1, 31), date(2027, 2, 28)),
        ("25 des", date(2026, 12, 26), date(2027, 12, 25)),
        ("tgl 25 ini", date(2026, 11, 26), date(2026, 11, 25)),  # explicit "this month" stays, even if past
    ],
)
def test_due_date_edge_days(text: str, today: date, expected: date) -> None:
    assert parse_due_date(text, today=today) == expected


def test_explicit_past_date_is_returned_for_the_caller_to_reject() -> None:
    assert parse_due_date("20-11-2026", today=MONDAY) == date(2026, 11, 20)


def test_invalid_explicit_date_is_none() -> None:
    assert parse_due_date("31-02-2027", today=MONDAY) is None


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(min_value=1, max_value=28))
def test_day_of_month_is_never_in_the_past_and_within_a_month(today: date, day: int) -> None:
    found = parse_due_date(f"tgl {day}", today=today)
    assert found is not None
    assert found.day == day
    assert today <= found <= today + timedelta(days=31)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_weekday_this_is_within_a_week(today: date) -> None:
    for name, weekday in (("senin", 0), ("jumat", 4), ("sabtu", 5)):
        found = parse_due_date(f"{name} ini", today=today)
        assert found is not None
        assert found.weekday() == weekday
        assert today <= found < today + timedelta(days=7)


# -- birth dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "17-08-1990",
        "17/08/1990",
        "17.08.1990",
        "17 agustus 1990",
        "17 Agt 1990",
        "1990-08-17",
        "August 17, 1990",
        "17 Aug 1990",
        "tgl lahir sy 17 agustus 1990",
        "lahir 17-8-1990 pak",
    ],
)
def test_birth_date(text: str) -> None:
    assert parse_birth_date(text, today=MONDAY) == date(1990, 8, 17)


@pytest.mark.parametrize(
    "text", ["32-13-1990", "31-02-1990", "17-08-2090", "01-01-1899", "", "ok", "17 agustus", "tgl 17"]
)
def test_birth_date_invalid(text: str) -> None:
    assert parse_birth_date(text, today=MONDAY) is None


def test_birth_date_uses_real_today_by_default() -> None:
    assert parse_birth_date("01-01-1980") == date(1980, 1, 1)


# -- local today and formatting ------------------------------------------------------------


def test_local_today_crosses_midnight_by_timezone() -> None:
    now = datetime(2026, 11, 23, 18, 30, tzinfo=timezone.utc)
    assert local_today("Asia/Jakarta", now) == date(2026, 11, 24)  # 01:30 WIB
    assert local_today("America/New_York", now) == date(2026, 11, 23)
    assert local_today("Asia/Jayapura", datetime(2026, 11, 23, 14, 59, tzinfo=timezone.utc)) == date(2026, 11, 23)
    assert local_today("Asia/Jayapura", datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)) == date(2026, 11, 24)


def test_local_today_defaults_to_now() -> None:
    assert isinstance(local_today("Asia/Jakarta"), date)


def test_local_today_rejects_naive_datetime() -> None:
    with pytest.raises(ValueError):
        local_today("Asia/Jakarta", datetime(2026, 11, 23, 10, 0))


def test_format_date() -> None:
    assert format_date(date(2026, 12, 25), "id") == "25 Desember 2026"
    assert format_date(date(2026, 12, 25), "en") == "25 December 2026"
    assert format_weekday_date(date(2026, 12, 25), "id") == "Jumat, 25 Desember 2026"
    assert format_weekday_date(date(2026, 12, 25), "en") == "Friday, 25 December 2026"
