"""Money formatting per language and the strict Decimal gate."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain import format_money, to_decimal


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        ("1500000", "IDR", "id", "Rp1.500.000"),
        ("1500000.50", "IDR", "id", "Rp1.500.000,50"),
        ("1500000.5", "IDR", "id", "Rp1.500.000,50"),
        ("1500000", "IDR", "en", "IDR 1,500,000"),
        ("1500000.50", "IDR", "en", "IDR 1,500,000.50"),
        ("0", "IDR", "id", "Rp0"),
        ("1200.50", "USD", "en", "$1,200.50"),
        ("1200", "USD", "en", "$1,200.00"),
    ],
)
def test_format_money(amount: str, currency: str, language: str, expected: str) -> None:
    assert format_money(Decimal(amount), currency, language) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Decimal("1.50"), Decimal("1.50")), (1500, Decimal(1500)), (" 1500.25 ", Decimal("1500.25"))],
)
def test_to_decimal(value: object, expected: Decimal) -> None:
    assert to_decimal(value) == expected


@pytest.mark.parametrize("value", [1.5, True, None, [1]])
def test_to_decimal_rejects_non_exact_types(value: object) -> None:
    with pytest.raises(TypeError):
        to_decimal(value)


@pytest.mark.parametrize("value", ["abc", "", "NaN", "Infinity", Decimal("NaN")])
def test_to_decimal_rejects_non_numbers(value: object) -> None:
    with pytest.raises(ValueError):
        to_decimal(value)
