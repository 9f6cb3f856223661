from datetime import date

import pytest

from bot.domain.dates import parse_paid_date

TODAY = date(2026, 11, 23)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("udh tf td pagi", date(2026, 11, 23)),
        ("sudah bayar hari ini", date(2026, 11, 23)),
        ("I paid this morning", date(2026, 11, 23)),
        ("sudah bayar kemarin", date(2026, 11, 22)),
        ("saya sudah bayar kemarin 500rb", date(2026, 11, 22)),
        ("paid yesterday", date(2026, 11, 22)),
        ("3 hari lalu", date(2026, 11, 20)),
        ("2 days ago", date(2026, 11, 21)),
        ("minggu lalu", date(2026, 11, 16)),
        ("tgl 20", date(2026, 11, 20)),
        ("tgl 25", date(2026, 10, 25)),  # the 25th has not come yet this month
        ("20/11", date(2026, 11, 20)),
        ("hari jumat", date(2026, 11, 20)),
        ("25 des", date(2025, 12, 25)),
        ("20-11-2026", date(2026, 11, 20)),
        ("30-11-2026", date(2026, 11, 30)),  # explicit future date kept, so the caller can refuse it
        ("belum", None),
        ("500rb", None),
    ],
)
def test_parse_paid_date(text, expected):
    assert parse_paid_date(text, today=TODAY) == expected
