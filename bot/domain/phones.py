"""Phone numbers as debtors and lenders write them ("0812-3456-7801", "+62 812 3456 7801") in E.164."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

__all__ = ["e164", "looks_like_phone"]

_PHONE = re.compile(r"^\+?[\d\s().-]{9,20}$")


def looks_like_phone(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    return bool(_PHONE.match(text.strip())) and (digits.startswith(("08", "628")) or text.strip().startswith("+"))


@lru_cache(maxsize=65536)
def e164(raw: str) -> str | None:
    """The number in E.164 (Indonesian numbers by default), or None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
