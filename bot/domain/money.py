"""Showing and accepting money.

Amounts are ``Decimal`` end to end (STYLE rule 7); this module is the one place that turns them
into text for debtors and the one strict gate for values coming from outside.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, format_decimal, get_currency_symbol

__all__ = ["format_money", "to_decimal"]


def _locale(language: str) -> str:
    lang = language.lower().replace("-", "_")
    if lang.startswith("id"):
        return "id_ID"
    if lang == "en":
        return "en_US"
    return language


def format_money(amount: Decimal, currency: str, language: str) -> str:
    """Money as a debtor in that language expects to read it.

    Rupiah has no cents in practice, so whole Rupiah amounts drop the decimals ("Rp1.500.000"); where
    the locale has no symbol for the currency (IDR in English) the code is followed by a space
    ("IDR 1,500,000") because "IDR1,500,000" reads as one word.
    """
    amount = to_decimal(amount)
    locale = _locale(language)
    code = currency.upper()
    symbol = get_currency_symbol(code, locale=locale)
    prefix = "¤¤ " if symbol == code else "¤"
    if code == "IDR" and amount == amount.to_integral_value():
        return format_currency(amount, code, format=f"{prefix}#,##0", locale=locale, currency_digits=False)
    # Other currencies (and Rupiah with cents) keep the currency's standard minor digits.
    return format_currency(amount, code, format=f"{prefix}#,##0.00", locale=locale)


def to_decimal(value: object) -> Decimal:
    """Convert a money value, refusing floats.

    A float has already lost precision (0.1 + 0.2), so accepting one would hide the bug that
    produced it; callers must pass ``Decimal``, ``int`` or a numeric string instead.
    """
    if isinstance(value, bool):
        raise TypeError("a bool is not an amount")
    if isinstance(value, float):
        raise TypeError("floats are not accepted for money; pass Decimal, int or str")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal number: {value!r}") from exc
    else:
        raise TypeError(f"cannot convert {type(value).__name__} to Decimal")
    if not result.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return result


def format_percent(value: Decimal, language: str) -> str:
    """A percentage number as the language writes it, without the sign ("12,5" in Indonesian)."""
    return format_decimal(to_decimal(value).normalize(), format="#,##0.##", locale=_locale(language))
