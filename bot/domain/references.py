"""Transfer references in what debtors write: "ref TRX884512", "no ref nya 88451234", and saying there is
none ("gk ada no ref, struknya ilang")."""

from __future__ import annotations

import re

__all__ = ["parse_reference"]

# A cue, then the reference: any token of 4+ letters/digits with at least one digit.
_AFTER_CUE = re.compile(
    r"\b(?:ref(?:erensi|erence)?(?:nya)?|no\.?\s*ref(?:nya)?|nomor\s+ref\w*|kode(?:\s+transaksi)?|id\s+transaksi|trx\s*id"
    r"|transaction\s+(?:id|number)|bukti(?:\s+transfer)?)\b[\s:.#-]*(?:nya\s+)?(?:adalah\s+|is\s+)?"
    r"(?P<ref>(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{3,})",
    re.IGNORECASE,
)
# Without a cue: letters and digits mixed (TRX884512, FT23A1B2), never a plain amount or date.
_MIXED = re.compile(r"\b(?=[A-Za-z-]*\d)(?=\d*[A-Za-z])[A-Za-z0-9][A-Za-z0-9-]{5,}\b")
_NOT_A_REFERENCE = re.compile(r"^\d+(?:[.,]\d+)?(?:rb|ribu|k|jt|juta|m)$|^\d{1,2}[-/]\d{1,2}", re.IGNORECASE)
_ONLY_DIGITS = re.compile(r"^\s*#?\s*(?P<ref>\d{6,30})\s*[.!]?\s*$")
_NONE = re.compile(
    r"\b(?:g(?:a|ak|k)|tidak|tdk|nggak|ngga|enggak|belum|blm)\s+(?:ada|punya|inget|ingat|tau|tahu|nyimpen|simpan)\b"
    r"|\b(?:struk|bukti|resi|nota)\w*\s+(?:nya\s+)?(?:hilang|ilang|kebuang|lupa)"
    r"|\b(?:hilang|ilang|lupa)\b.*\b(?:struk|bukti|resi|ref\w*)"
    r"|\b(?:no|don'?t|do\s+not)\s+(?:have\s+)?(?:a\s+|any\s+)?(?:ref\w*|receipt|number)"
    r"|\blost\s+(?:the\s+|my\s+)?(?:receipt|slip|reference)|^\s*(?:none|n/?a|-|tidak\s+ada|gak\s+ada|ga\s+ada)\s*$",
    re.IGNORECASE,
)


def parse_reference(text: str) -> tuple[str | None, bool]:
    """(the reference named in ``text``, or None; whether the debtor said there is none)."""
    cued = _AFTER_CUE.search(text)
    if cued and not _NOT_A_REFERENCE.match(cued.group("ref")):
        return cued.group("ref").upper(), False
    if _NONE.search(text):
        return None, True
    digits = _ONLY_DIGITS.match(text)
    if digits:
        return digits.group("ref"), False
    for match in _MIXED.finditer(text):
        token = match.group(0)
        if not _NOT_A_REFERENCE.match(token):
            return token.upper(), False
    return None, False


def virtual_account_for(ref: str, stored: str | None, prefix: str) -> str:
    """The virtual account a debtor pays into: the one the lender gave the account, else one derived
    from the digits of its reference behind the lender's prefix ("DEMO-1002" -> prefix + "00001002")."""
    if stored:
        return stored
    digits = "".join(ch for ch in ref if ch.isdigit())
    return f"{prefix}{digits.zfill(8)}"
