"""Indonesian and English chat spelling to standard words, one token at a time.

Pure Python (no Rasa import), so the app's tests can check it; ``chat_tokenizer.py`` applies it to
the tokens Rasa's featurizers see. The message text itself is never changed: custom actions read
dates, amounts and references from what the debtor typed.
"""

from __future__ import annotations

import re

# Chat forms seen in debtors' messages -> the standard word (DOMAIN.md's list and more).
LEXICON: dict[str, str] = {
    # negation and yes
    "gk": "tidak", "ga": "tidak", "gak": "tidak", "g": "tidak", "nggak": "tidak", "ngga": "tidak",
    "engga": "tidak", "enggak": "tidak", "gag": "tidak", "tdk": "tidak", "tak": "tidak", "kagak": "tidak",
    "ndak": "tidak", "nda": "tidak", "nope": "no", "nah": "no",
    "iy": "iya", "iyaa": "iya", "yoi": "iya", "yap": "iya", "yep": "yes", "yup": "yes", "ya": "iya",
    "ok": "oke", "okay": "oke", "okey": "oke", "okeh": "oke", "oce": "oke", "sip": "oke", "siap": "oke",
    # time
    "udh": "sudah", "udah": "sudah", "sdh": "sudah", "dah": "sudah", "uda": "sudah", "sudh": "sudah",
    "blm": "belum", "blom": "belum", "belom": "belum", "blum": "belum",
    "bsk": "besok", "besuk": "besok", "bsok": "besok", "skrg": "sekarang", "skr": "sekarang",
    "skrang": "sekarang", "kmrn": "kemarin", "kemaren": "kemarin", "kmren": "kemarin", "kmarin": "kemarin",
    "tgl": "tanggal", "tggl": "tanggal", "bln": "bulan", "thn": "tahun", "mgg": "minggu", "mggu": "minggu",
    "ntar": "nanti", "ntr": "nanti", "nnti": "nanti", "entar": "nanti", "td": "tadi", "tdi": "tadi",
    "lg": "lagi", "lgi": "lagi", "dl": "dulu", "dlu": "dulu", "dulu": "dulu", "sblm": "sebelum",
    "stlh": "setelah", "abis": "habis", "jd": "jadi", "jdi": "jadi", "sampe": "sampai", "smp": "sampai",
    # people and address
    "sy": "saya", "sya": "saya", "aq": "aku", "gw": "aku", "gue": "aku",     "km": "kamu", "lu": "kamu", "lo": "kamu", "kk": "kak", "ka": "kak", "kakak": "kak", "mba": "mbak",
    "mb": "mbak", "bpk": "pak", "bapak": "pak", "ibu": "bu", "min": "admin", "org": "orang",
    # questions
    "brp": "berapa", "brapa": "berapa", "berapaan": "berapa", "gmn": "bagaimana", "gmna": "bagaimana",
    "gimana": "bagaimana", "bgmn": "bagaimana", "gmana": "bagaimana", "knp": "kenapa", "napa": "kenapa",
    "knapa": "kenapa", "kpn": "kapan", "dmn": "dimana", "dmna": "dimana", "kmn": "kemana",
    "kemana": "kemana", "apa2": "apa",
    # money and paying
    "tf": "transfer", "trf": "transfer", "trsf": "transfer", "tranfer": "transfer", "transf": "transfer",
    "rb": "ribu", "rbu": "ribu", "jt": "juta", "jta": "juta", "duit": "uang", "doku": "uang",
    "byr": "bayar", "bayr": "bayar", "bayarnya": "bayar", "pinjem": "pinjam", "minjem": "pinjam",
    "nyicil": "cicil", "nyicilnya": "cicil", "cicilannya": "cicilan", "tagihannya": "tagihan",
    "tghn": "tagihan", "lunasin": "lunas", "ngelunasin": "lunas", "rek": "rekening", "norek": "rekening",
    "va": "virtual", "mbanking": "m-banking", "gajian": "gaji",
    # little words
    "yg": "yang", "dg": "dengan", "dgn": "dengan", "utk": "untuk", "untk": "untuk",     "krn": "karena", "karna": "karena", "krna": "karena", "jgn": "jangan", "jngn": "jangan",
    "aja": "saja", "aj": "saja", "tp": "tapi", "tpi": "tapi", "sm": "sama", "ama": "sama", "klo": "kalau",
    "kalo": "kalau", "kl": "kalau", "trs": "terus", "trus": "terus", "bgt": "banget", "msh": "masih",
    "masi": "masih", "hrs": "harus", "bs": "bisa", "bsa": "bisa", "bisaa": "bisa", "mo": "mau",
    "pengen": "ingin", "pgn": "ingin", "tlg": "tolong", "tolongin": "tolong", "dr": "dari", "dri": "dari",
    "sdg": "sedang", "lgsg": "langsung", "lsg": "langsung", "gpp": "gapapa", "gapapa": "gapapa",
    "makasih": "terimakasih", "mksh": "terimakasih", "makasi": "terimakasih", "trims": "terimakasih",
    "tq": "terimakasih", "thx": "thanks", "tks": "thanks", "ty": "thanks",
    "hub": "hubungi", "hubungin": "hubungi", "ngehubungin": "hubungi", "nelpon": "telepon",
    "telpon": "telepon", "tlp": "telepon", "telp": "telepon", "nlp": "telepon", "wa": "whatsapp",
    "chatt": "chat", "ngechat": "chat",
    # English chat
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "plis": "please", "pliss": "please",
    "im": "i'm", "dont": "don't", "cant": "can't", "wont": "won't", "didnt": "didn't", "idk": "i don't know",
    "tmrw": "tomorrow", "tmr": "tomorrow", "tomorow": "tomorrow", "2day": "today", "asap": "soon",
}  # fmt: skip

_REPEATS = re.compile(r"([a-z])\1{2,}")  # letters only: "10000" stays
_AMOUNT = re.compile(r"^(\d+(?:[.,]\d+)?)(rb|ribu|k|jt|juta|m)$")
_UNITS = {"rb": "ribu", "ribu": "ribu", "k": "ribu", "jt": "juta", "juta": "juta", "m": "juta"}
_REDUPLICATION = re.compile(r"^([a-z]+)2$")  # "telpon2" = "telpon-telpon"


def normalise_token(token: str) -> str:
    """The standard form of one token (lower case); unknown words come back lower-cased, with letters
    repeated three or more times ("besokkk") cut to one."""
    word = token.lower()
    if word in LEXICON:
        return LEXICON[word]
    amount = _AMOUNT.match(word)
    if amount:
        return f"{amount.group(1)}{_UNITS[amount.group(2)]}"
    doubled = _REDUPLICATION.match(word)
    if doubled:
        word = doubled.group(1)
    squeezed = _REPEATS.sub(r"\1", word)
    if squeezed in LEXICON:
        return LEXICON[squeezed]
    if squeezed != word:
        return squeezed
    return LEXICON.get(word, word)
