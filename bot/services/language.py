"""Which language a debtor writes in. The bot answers in it (a debtor's profile language is only
for the messages the lender sends first), unless the debtor asked for a language. Chat-spelling
Indonesian is covered explicitly.
"""

from __future__ import annotations

import re
from typing import Any

_ID_WORDS = frozenset(
    """saya sy aku gw gue sdh udh udah sudah blm belum bayar tagihan berapa brp bisa bs gak ga gk tidak
    nggak enggak mau minta tolong kapan besok bsk tgl tanggal kak mbak mas pak bu bapak ibu halo hai
    selamat pagi siang sore malam terima kasih makasih tf trf transfer cicil nyicil cicilan angsuran
    utang hutang lunas kemarin kmrn nanti ini itu yang dan atau dengan sama orang petugas jangan lagi
    gimana gmn bagaimana kenapa knp apa dong deh ya iya ok oke aja saja tunggu""".split()
)
_EN_WORDS = frozenset(
    """i i'm im me my you your the a an is are was were have has had pay paid payment bill balance how
    much when what why can could would will please thanks thank hello hi hey good morning afternoon
    evening tomorrow today yesterday want need talk person agent human stop not don't dont do does
    already installment installments owe debt money account number""".split()
)
_TOKEN = re.compile(r"[a-zA-Z']+")


def guess_language(text: str, default: str) -> str:
    """Return 'id' or 'en' by counting marker words; ``default`` on a tie."""
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    id_score = sum(t in _ID_WORDS for t in tokens)
    en_score = sum(t in _EN_WORDS for t in tokens)
    if en_score > id_score:
        return "en"
    if id_score > en_score:
        return "id"
    return default


def requested_language(text: str) -> str | None:
    """Which language a 'please switch language' message asks for, if it names one."""
    lowered = text.lower()
    if re.search(r"\b(english|inggris|eng)\b", lowered):
        return "en"
    if re.search(r"\b(indonesia|indonesian|indo|bahasa)\b", lowered):
        return "id"
    return None


def written_language(text: str) -> str | None:
    """The language a message is clearly written in ('id'/'en'), or None when it is too short or mixed
    to tell (a button payload, "ok", a number)."""
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    id_score = sum(t in _ID_WORDS for t in tokens)
    en_score = sum(t in _EN_WORDS for t in tokens)
    if en_score >= 2 and en_score >= 2 * id_score:
        return "en"
    if id_score >= 2 and id_score >= 2 * en_score:
        return "id"
    return None


def follow_language(conversation: Any, text: str) -> str | None:
    """Reply in the language the debtor writes, unless they asked for one: the conversation's new
    language when this message changes it, else None."""
    if conversation.language_chosen or text.lstrip().startswith("/"):
        return None
    written = written_language(text)
    if written is None or written == conversation.language:
        return None
    conversation.language = written
    return written
