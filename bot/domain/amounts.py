"""Amounts and instalment counts from chat text.

Debtors write money in many shapes ("500rb", "1,5jt", "Rp1.500.000,00", "IDR 750,000") and mix it
with dates and phone numbers in one message ("sy bayar 500rb tgl 25"), so we look at every number
with its surroundings and keep only the ones that can only be money.  The result is always a
``Decimal``: floats would turn "1,5jt" into 1499999.9999.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.domain._numwords import EN_NUMBER_PATTERN, ID_NUMBER_PATTERN, word_to_int

__all__ = ["FULL_AMOUNT", "amount_meant", "parse_amount", "parse_count", "parse_per_month"]

_SCALES: dict[str, Decimal] = {
    "rb": Decimal(1_000),
    "ribu": Decimal(1_000),
    "rebu": Decimal(1_000),
    "k": Decimal(1_000),
    "rbu": Decimal(1_000),
    "jt": Decimal(1_000_000),
    "juta": Decimal(1_000_000),
    "jta": Decimal(1_000_000),
    "m": Decimal(1_000_000),
    "mio": Decimal(1_000_000),
    "million": Decimal(1_000_000),
    "mn": Decimal(1_000_000),
    "miliar": Decimal(1_000_000_000),
    "milyar": Decimal(1_000_000_000),
    "billion": Decimal(1_000_000_000),
    "thousand": Decimal(1_000),
}
_SCALE_RE = "|".join(sorted(_SCALES, key=len, reverse=True))
_CURRENCY_RE = r"rp\.?|idr|usd|us\$|\$|sgd|s\$|myr|rm|eur|€"

# A number with optional currency before and scale word after.  Separators may appear inside.
_AMOUNT_RE = re.compile(
    rf"(?<![\w.,/:#+-])(?P<cur>(?:{_CURRENCY_RE})\s*)?"
    r"(?P<num>\d+(?:[.,]\d+)*)"
    rf"(?:\s*(?P<scale>{_SCALE_RE}))?(?![a-z0-9]|[.,/:-]\d)"
    rf"(?:\s*(?P<cur2>{_CURRENCY_RE}|rupiah)(?![a-z]))?"
    r"(?P<pct>\s*%)?",
    re.IGNORECASE,
)

# Words that turn the number after them into something else than money.
_BEFORE_NOT_MONEY = re.compile(
    r"(?:\b(?:tgl|tanggal|tanggalnya|tglnya|date|dated|on|the|jam|pukul|pkl|at|ke|no|nomor|nomer|nmr|"
    r"number|ref|referensi|invoice|inv|id|va|rek|rekening|hp|wa|telp|telepon|ktp|nik|kode|code|"
    r"angsuran|cicilan|installment)\.?|#)\s*:?\s*$",
    re.IGNORECASE,
)
# Units that make the number a count or duration rather than money.
_AFTER_NOT_MONEY = re.compile(
    r"^\s*(?:x\b|kali|hari|hr|days?|minggu|mgg|weeks?|bulan|bln|months?|tahun|thn|years?|jam|hours?|"
    r"menit|minutes?|orang|st\b|nd\b|rd\b|th\b|[a-z]{3,}\s*\d{4}|"
    r"(?:jan|feb|mar|apr|mei|may|jun|jul|agu|agt|ags|aug|sep|okt|oct|nov|nop|des|dec)[a-z]*\b)",
    re.IGNORECASE,
)

_WORD_AMOUNT_RE = re.compile(
    rf"\b(?:(?P<half>setengah)\s+(?P<hscale>juta|jt|ribu|rb)"
    rf"|se(?P<bound>juta|ribu)(?:\s+(?P<andhalf>setengah))?"
    rf"|(?P<words>{ID_NUMBER_PATTERN}|{EN_NUMBER_PATTERN})\s+(?P<wscale>juta|jt|ribu|rb|million|thousand)"
    rf"(?:\s+(?P<wandhalf>setengah))?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Found:
    """One money candidate; ``scale`` lets "1 jt 250 rb" be added up."""

    start: int
    end: int
    value: Decimal
    scale: Decimal | None


def _to_number(raw: str) -> Decimal | None:
    """Read a digit string whose '.'/',' roles are decided by shape.

    With both separators, the last one is the decimal mark.  With one kind only, a group of
    exactly three digits after it (every time) marks thousands; otherwise it is a decimal mark.
    """
    dots, commas = raw.count("."), raw.count(",")
    if dots and commas:
        decimal_mark = "." if raw.rfind(".") > raw.rfind(",") else ","
        thousands = "," if decimal_mark == "." else "."
        whole, _, frac = raw.rpartition(decimal_mark)
        if thousands in frac or not _valid_groups(whole, thousands):
            return None
        text = whole.replace(thousands, "") + "." + frac
    elif dots or commas:
        sep = "." if dots else ","
        parts = raw.split(sep)
        if len(parts) > 2 or all(len(p) == 3 for p in parts[1:]):
            if not _valid_groups(raw, sep):
                return None
            text = raw.replace(sep, "")
        else:
            text = parts[0] + "." + parts[1]
    else:
        text = raw
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _valid_groups(whole: str, sep: str) -> bool:
    parts = whole.split(sep)
    return 1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])


def _looks_like_phone_or_reference(raw: str) -> bool:
    """Phone numbers start with 0/62 and are long; references are long digit runs."""
    digits = raw.replace(".", "").replace(",", "")
    if raw != digits:
        return False
    if digits.startswith(("08", "628", "+62")) and len(digits) >= 9:
        return True
    return len(digits) > 12 or (digits.startswith("0") and len(digits) > 1)


def _is_year(raw: str, value: Decimal) -> bool:
    return raw.isdigit() and len(raw) == 4 and 1900 <= value <= 2100


def _numeric_candidates(text: str) -> list[_Found]:
    found: list[_Found] = []
    for m in _AMOUNT_RE.finditer(text):
        raw = m.group("num")
        cur = m.group("cur") or m.group("cur2")
        scale_word = m.group("scale")
        if m.group("pct"):
            continue
        before = text[: m.start("num")] if not m.group("cur") else text[: m.start()]
        after = text[m.end() :]
        if not cur and not scale_word:
            if _BEFORE_NOT_MONEY.search(before) or _AFTER_NOT_MONEY.match(after):
                continue
        elif scale_word and not cur and re.search(r"\b(?:tgl|tanggal|date)\s*$", before, re.IGNORECASE):
            continue
        value = _to_number(raw)
        if value is None:
            continue
        if not cur and not scale_word:
            # A bare number is money only when it is big enough to be Rupiah and no year/phone.
            if value < 1000 or _is_year(raw, value) or _looks_like_phone_or_reference(raw):
                continue
        scale = _SCALES[scale_word.lower()] if scale_word else None
        found.append(_Found(m.start(), m.end(), value * (scale or 1), scale))
    return found


def _word_candidates(text: str) -> list[_Found]:
    found: list[_Found] = []
    for m in _WORD_AMOUNT_RE.finditer(text):
        if m.group("half"):
            scale = _SCALES[m.group("hscale").lower()]
            value = scale / 2
        elif m.group("bound"):
            scale = _SCALES[m.group("bound").lower()]
            value = scale * Decimal("1.5") if m.group("andhalf") else scale
        else:
            n = word_to_int(m.group("words"))
            if n is None:
                continue
            scale = _SCALES[m.group("wscale").lower()]
            value = scale * n + (scale / 2 if m.group("wandhalf") else 0)
        found.append(_Found(m.start(), m.end(), value, scale))
    return found


def _merge_compound(found: list[_Found], text: str) -> list[_Found]:
    """Join "1 jt 250 rb" into one amount: a bigger scale followed by a smaller one."""
    merged: list[_Found] = []
    for item in sorted(found, key=lambda f: f.start):
        if merged:
            prev = merged[-1]
            gap = text[prev.end : item.start]
            if (
                prev.scale is not None
                and item.scale is not None
                and item.scale < prev.scale
                and re.fullmatch(r"\s*(?:dan|and|\+)?\s*", gap)
            ):
                merged[-1] = _Found(prev.start, item.end, prev.value + item.value, item.scale)
                continue
        merged.append(item)
    return merged


def parse_amount(text: str) -> Decimal | None:
    """The first money amount in a chat message, or None when it mentions none.

    Numbers tied to dates ("tgl 25", "25/12"), years, counts ("3x", "6 bulan"), percentages,
    phone and reference numbers are skipped; a bare number without currency or scale counts only
    from 1000 up, since nobody owes "25" Rupiah.
    """
    found = _merge_compound(_numeric_candidates(text) + _word_candidates(text), text)
    # Drop overlaps, keeping the earliest (longest at the same start).
    result: list[_Found] = []
    for item in sorted(found, key=lambda f: (f.start, -f.end)):
        if result and item.start < result[-1].end:
            continue
        result.append(item)
    for item in result:
        if item.value > 0:
            return _tidy(item.value)
    return None


def _tidy(value: Decimal) -> Decimal:
    """Whole amounts without a spurious exponent or ".0" left by scaling ("1,5jt")."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


_COUNT_UNITS = r"(?:x|kali|times|bulan|bln|months?|mo|minggu|mgg|weeks?|cicilan|angsuran|installments?|termin|tahap)"
_COUNT_WORD_RE = rf"(?:{ID_NUMBER_PATTERN}|{EN_NUMBER_PATTERN})"


def parse_count(text: str) -> int | None:
    """How many instalments a debtor asks for ("3x", "tiga kali", "6 bulan", "three").

    A number with a count unit wins; otherwise a lone number or number word, provided it is not
    money ("500rb") or a day of the month ("tgl 3").
    """
    norm = " ".join(text.lower().split())
    m = re.search(rf"(?<![\d.,])(\d{{1,3}})\s*{_COUNT_UNITS}(?![a-z])", norm)
    if m:
        return _positive(int(m.group(1)))
    m = re.search(rf"\b({_COUNT_WORD_RE})\s*{_COUNT_UNITS}(?![a-z])", norm)
    if m:
        return _positive(word_to_int(m.group(1)))
    numbers = [
        m
        for m in re.finditer(r"(?<![\w.,/:-])(\d{1,3})(?![\w.,/:-]|\s*(?:rb|ribu|k|jt|juta|%)\b)", norm)
        if not re.search(r"\b(?:tgl|tanggal|date|jam|pukul)\.?\s*$", norm[: m.start()])
    ]
    if len(numbers) == 1:
        return _positive(int(numbers[0].group(1)))
    if numbers:
        return None
    words = [
        m
        for m in re.finditer(rf"\b({_COUNT_WORD_RE})\b(?!\s*(?:juta|jt|ribu|rb|million|thousand)\b)", norm)
        if m.group(1) not in ("a", "an")
    ]
    if len(words) == 1:
        return _positive(word_to_int(words[0].group(1)))
    return None


def _positive(n: int | None) -> int | None:
    return n if n is not None and n > 0 else None


_PER_MONTH = re.compile(
    r"\b(?:per\s*-?\s*bulan|perbulan|per\s*bln|/\s*bln|/\s*bulan|sebulan|tiap\s*bulan|setiap\s*bulan|tiap\s*bln"
    r"|bulanan|a\s+month|per\s+month|/\s*month|/\s*mo|each\s+month|every\s+month|monthly)\b",
    re.IGNORECASE,
)


def parse_per_month(text: str) -> Decimal | None:
    """What a debtor offers to pay each month ("500rb per bulan", "sebulan 300rb", "500k a month"),
    or None when the message names no monthly amount."""
    if not _PER_MONTH.search(text):
        return None
    return parse_amount(text)


# "lunas", "semuanya", "the whole amount", "pay it off": the whole balance, whatever it is.
FULL_AMOUNT = re.compile(
    r"\b((?:di)?lunas(?:in|i|kan)?|pelunasan|full|semua(nya)?|seluruh(nya)?|all|everything|in full|penuh|"
    r"pay\s+(?:it\s+|that\s+)?off|clear|settle|whole|entire)\b",
    re.I,
)


def amount_meant(text: str, balance: Decimal) -> Decimal | None:
    """The amount a debtor means: the whole ``balance`` for "lunas"/"the whole amount", else the one written."""
    return balance if FULL_AMOUNT.search(text) else parse_amount(text)
