"""Small number words in Indonesian and English.

Debtors write "tiga kali", "seminggu lagi" or "three months"; both the date and the amount parsers
need to turn such words into integers, so the vocabulary lives here once.
"""

from __future__ import annotations

import re

_ID_UNITS: dict[str, int] = {
    "nol": 0,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
}

_EN_WORDS: dict[str, int] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "twenty-four": 24,
    "thirty": 30,
    "thirty-six": 36,
    "a": 1,
    "an": 1,
}

_ID_UNIT_RE = "|".join(k for k in _ID_UNITS if k != "nol")

# Longest alternatives first so "dua puluh tiga" wins over "dua".
ID_NUMBER_PATTERN = (
    rf"(?:(?:{_ID_UNIT_RE}|se)\s*ratus(?:\s+(?:(?:{_ID_UNIT_RE})\s+puluh(?:\s+(?:{_ID_UNIT_RE}))?"
    rf"|(?:{_ID_UNIT_RE}|se)\s*belas|sepuluh|{_ID_UNIT_RE}))?"
    rf"|(?:{_ID_UNIT_RE})\s+puluh(?:\s+(?:{_ID_UNIT_RE}))?"
    rf"|(?:{_ID_UNIT_RE})\s+belas|sebelas|sepuluh"
    rf"|{_ID_UNIT_RE}|nol)"
)
EN_NUMBER_PATTERN = "(?:" + "|".join(sorted((k for k in _EN_WORDS if len(k) > 2), key=len, reverse=True)) + ")"

_ID_FULL_RE = re.compile(rf"^{ID_NUMBER_PATTERN}$")


def _unit(word: str) -> int:
    """``se`` is the bound form of ``satu`` ("seratus" = one hundred)."""
    return 1 if word == "se" else _ID_UNITS[word]


def id_words_to_int(words: str) -> int | None:
    """Value of an Indonesian number phrase below 1000, or None when it is not one."""
    text = " ".join(words.lower().split())
    if not _ID_FULL_RE.match(text):
        return None
    total = 0
    rest = text
    hundreds = re.match(rf"^({_ID_UNIT_RE}|se)\s*ratus\s*", rest)
    if hundreds:
        total += _unit(hundreds.group(1)) * 100
        rest = rest[hundreds.end() :]
    if not rest:
        return total
    if rest == "sepuluh":
        return total + 10
    if rest == "sebelas":
        return total + 11
    teen = re.match(rf"^({_ID_UNIT_RE}|se)\s*belas$", rest)
    if teen:
        return total + 10 + _unit(teen.group(1))
    tens = re.match(rf"^({_ID_UNIT_RE})\s+puluh(?:\s+({_ID_UNIT_RE}))?$", rest)
    if tens:
        return total + _unit(tens.group(1)) * 10 + (_unit(tens.group(2)) if tens.group(2) else 0)
    return total + _ID_UNITS[rest]


def word_to_int(word: str) -> int | None:
    """Value of an Indonesian or English number word/phrase, or None."""
    text = " ".join(word.lower().split())
    if text in _EN_WORDS:
        return _EN_WORDS[text]
    return id_words_to_int(text)
