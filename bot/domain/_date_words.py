"""The words debtors use for dates, and chat spelling folded onto them.

Kept apart from the calendar rules in ``dates`` so that the rules can be written against one
spelling ("kemarin", never "kmrn" / "kemaren" / "kmren") and the vocabulary can grow without
touching them.
"""

from __future__ import annotations

import re

from bot.domain._numwords import EN_NUMBER_PATTERN, ID_NUMBER_PATTERN, word_to_int

__all__ = [
    "COUNT_RE",
    "MONTHS",
    "MONTH_RE",
    "ORDINAL_RE",
    "WEEKDAYS",
    "WEEKDAY_RE",
    "count_value",
    "day_value",
    "normalise",
]

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

# "the fifth", "on the twenty-first": English day numbers written as words.
_EN_ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "thirty-first": 31,
}  # fmt: skip
_EN_ORDINALS |= {f"twenty-{word}": 20 + n for word, n in _EN_ORDINALS.items() if n < 10}

MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
ORDINAL_RE = "|".join(sorted(_EN_ORDINALS, key=len, reverse=True))
COUNT_RE = rf"(?:\d{{1,3}}|{ID_NUMBER_PATTERN}|{EN_NUMBER_PATTERN}|an?)"

# Chat spelling -> one spelling, applied in order on word boundaries after lower-casing. A digit
# may touch the word ("2hr", "tgl25"), a letter may not ("sen" is not inside "persen").
_SPELLING: list[tuple[str, str]] = [
    (r"mon\s+(?:maaf|maap|map)", "mohon maaf"),  # not Monday
    (r"yang\s+lalu|yg\s+lalu", "lalu"),
    (r"mingdep|minggu\s+dep", "minggu depan"),
    (r"buldep|bulan\s+dep|bln\s+dep", "bulan depan"),
    (r"kemaren|kmrn|kmren|kmrin|kmarin|kemarn|kemrin|kmaren|kemarinn|kemarén", "kemarin"),
    (r"td|tdi", "tadi"),
    (r"bsk|besuk|bsok|besoknya|bsoknya|besk", "besok"),
    (r"lsa", "lusa"),
    (r"skrg|skrng|skr|skarang|sekarng|skrang", "sekarang"),
    (r"ntar|entar|ntr|nnti|ntaran", "nanti"),
    (r"tgl\.?|tggl|tangal|tanggalnya|tglnya", "tanggal"),
    (r"bln|bulanan", "bulan"),
    (r"thn|taun|tahon", "tahun"),
    (r"mgg|mingu|mnggu|mggu|mgu", "minggu"),
    (r"hr", "hari"),
    (r"dpn|dpan", "depan"),
    (r"lg|lgi", "lagi"),
    (r"ni|nih", "ini"),
    (r"akir|ahir|akhr", "akhir"),
    (r"awl", "awal"),
    (r"prtengahan|pertengahn|pertngahan|pertenghan", "pertengahan"),
    (r"tngh|tgh|tenga", "tengah"),
    (r"sen|snin", "senin"),
    (r"sel|slasa", "selasa"),
    (r"rebo", "rabu"),
    (r"kemis", "kamis"),
    (r"jmt|jum|jumaat|jumad|jumt", "jumat"),
    (r"sab|sbtu|sbt", "sabtu"),
    (r"pekan", "minggu"),
    (r"wiken|wikend|week\s*-?\s*end|weekends", "weekend"),
    (r"gajihan|gjian|gajiannya|gajianku|gajian2", "gajian"),
    (r"tmrw|tmr|tomorow|tommorow|tommorrow|tomorrows|tomorro", "tomorrow"),
    (r"yday|yesterdy|yesturday", "yesterday"),
    (r"nxt", "next"),
]


def normalise(text: str) -> str:
    """Lower-case, unify chat spelling, drop sentence punctuation and collapse whitespace.

    Commas, dots, slashes and dashes stay: they separate the parts of dates and amounts.
    """
    out = text.lower().replace("’", "'").replace("`", "'").replace("‘", "'")
    out = re.sub(r"jum'?at\b", "jumat", out)
    out = re.sub(r"[?!;()\"“”]", " ", out)
    out = re.sub(r"\bmid\s*-\s*|\bmid(?=month|week)", "mid ", out)
    out = re.sub(
        r"\b(twenty|thirty)[\s-]+(?=(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)\b)", r"\1-", out
    )
    for pattern, replacement in _SPELLING:
        out = re.sub(rf"(?<![a-z'])(?:{pattern})(?![a-z'])", replacement, out)
    return " ".join(out.split())


def count_value(word: str) -> int | None:
    """How many days/weeks/months a count word stands for ("3", "tiga", "three", "a")."""
    if word.isdigit():
        return int(word)
    if word in ("a", "an", "se", "sa"):
        return 1
    return word_to_int(word)


def day_value(word: str) -> int | None:
    """A day of the month written as digits, an English ordinal or an Indonesian number."""
    if word.isdigit():
        return int(word)
    if word in _EN_ORDINALS:
        return _EN_ORDINALS[word]
    return word_to_int(word)
