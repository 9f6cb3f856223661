"""Several things in one message: "sy udh tf 500rb kmrn, sisanya jumat depan" is a payment made and a
promise for the rest. These split such a message; the flows read each part with the usual parsers."""

from __future__ import annotations

import re

__all__ = ["says_paid", "says_will_pay", "split_rest"]

_REST = re.compile(r"\b(?:sisa(?:nya)?|kekurangan(?:nya)?|the\s+rest|remaining|remainder)\b", re.I)
# A payment already made: "udh tf", "sudah bayar", "barusan transfer", "paid", "sent", "transferred".
_PAID = re.compile(
    r"\b(?:(?:udh|udah|sdh|sudah|dah|barusan|tadi|kemarin|kmrn)\s+(?:(?:sy|saya|aku|gw|gue)\s+)?(?:di\s*)?"
    r"(?:tf|transfer|trf|bayar|byr|kirim|setor)"
    r"|(?:already\s+)?(?:paid|sent|transferred|wired)"
    r"|(?:tf|transfer)\s+(?:kmrn|kemarin|tadi|td))\b",
    re.I,
)


def split_rest(text: str) -> tuple[str, str]:
    """(what the debtor says they paid, what they say about the rest): split at "sisanya"/"the rest"."""
    match = _REST.search(text)
    return (text[: match.start()], text[match.start() :]) if match else (text, "")


def says_paid(text: str) -> bool:
    """The text says a payment was already made (not promised)."""
    return bool(_PAID.search(text))


_PAY = re.compile(r"\b(?:bayar|byr|lunas\w*|dilunas\w*|transfer|tf|setor|pay|settle|clear)\b", re.I)


def says_will_pay(text: str) -> bool:
    """The text speaks of paying (a promise when it also names a date), not of a payment made."""
    return bool(_PAY.search(text)) and not says_paid(text)
