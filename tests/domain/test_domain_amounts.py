"""Money amounts and instalment counts from chat text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import format_money, parse_amount, parse_count


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500rb", "500000"),
        ("500 rb", "500000"),
        ("500 ribu", "500000"),
        ("500k", "500000"),
        ("500K", "500000"),
        ("1,5jt", "1500000"),
        ("1.5jt", "1500000"),
        ("1,5 juta", "1500000"),
        ("2jt", "2000000"),
        ("2 juta", "2000000"),
        ("1 jt 250 rb", "1250000"),
        ("1jt 250rb", "1250000"),
        ("Rp 1.500.000", "1500000"),
        ("Rp1.500.000,00", "1500000"),
        ("Rp. 500.000", "500000"),
        ("rp500rb", "500000"),
        ("1.500.000", "1500000"),
        ("1500000", "1500000"),
        ("IDR 750,000", "750000"),
        ("$1,200.50", "1200.50"),
        ("1,200.50", "1200.50"),
        ("1.200,50", "1200.50"),
        ("750.000", "750000"),
        ("750,000", "750000"),
        ("500.000 rupiah", "500000"),
        ("setengah juta", "500000"),
        ("sejuta", "1000000"),
        ("sejuta setengah", "1500000"),
        ("dua juta", "2000000"),
        ("seratus ribu", "100000"),
        ("$5", "5"),
        # embedded
        ("sy bayar 500rb tgl 25", "500000"),
        ("tgl 25 sy bayar 500rb", "500000"),
        ("bayar 1.250.000 tgl 5 bulan depan", "1250000"),
        ("bs bayar 200rb/minggu?", "200000"),
        ("cicil 3x 500rb", "500000"),
        ("tgl 25/12 sy tf 750rb", "750000"),
        ("insyaallah besok sy transfer 500rb", "500000"),
        ("I can pay 750,000 on the 25th", "750000"),
    ],
)
def test_parse_amount(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ok",
        "nanti aja",
        "sy bayar tgl 25",
        "tgl 25",
        "25",
        "25/12",
        "25-12-2026",
        "25 des 2026",
        "2026",
        "081234567890",
        "+6281234567890",
        "no rek 1234567890",
        "3x",
        "6 bulan",
        "transfer 50% dulu",
        "Rp 0",
        "jam 10:30",
        "INV2026001",
        "ref 1234567890123",
        "1234567890123",
    ],
)
def test_no_amount(text: str) -> None:
    assert parse_amount(text) is None


@given(
    st.decimals(min_value=Decimal("1"), max_value=Decimal("999999999999"), places=0),
    st.sampled_from(["id", "en"]),
)
def test_formatted_rupiah_round_trips(amount: Decimal, language: str) -> None:
    assert parse_amount(format_money(amount, "IDR", language)) == amount


@given(
    st.decimals(min_value=Decimal("1000"), max_value=Decimal("999999999"), places=2),
    st.sampled_from(["id", "en"]),
)
def test_formatted_amounts_with_cents_round_trip(amount: Decimal, language: str) -> None:
    assert parse_amount(format_money(amount, "IDR", language)) == amount


@given(st.integers(min_value=1000, max_value=10**12 - 1))  # longer bare digit runs are references
def test_plain_digit_strings_round_trip(value: int) -> None:
    text = str(value)
    if text.startswith("0") or (len(text) == 4 and 1900 <= value <= 2100):
        return
    assert parse_amount(f"sy bayar {text}") == Decimal(value)


@given(st.integers(min_value=1, max_value=999), st.sampled_from(["rb", " rb", " ribu", "k"]))
def test_thousands_suffix(value: int, suffix: str) -> None:
    assert parse_amount(f"{value}{suffix}") == Decimal(value * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("3x", 3),
        ("3 x", 3),
        ("3 kali", 3),
        ("tiga", 3),
        ("tiga kali", 3),
        ("6 bulan", 6),
        ("enam bln", 6),
        ("three", 3),
        ("3 months", 3),
        ("dicicil 4 kali", 4),
        ("bisa dicicil 12 bulan?", 12),
        ("dua belas bulan", 12),
        ("cicil 3x 500rb tgl 25", 3),
        ("6 installments", 6),
    ],
)
def test_parse_count(text: str, expected: int) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", ["", "ok", "500rb", "tgl 3", "0", "bisa dicicil?", "1,5jt"])
def test_no_count(text: str) -> None:
    assert parse_count(text) is None
