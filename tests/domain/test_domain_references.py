"""Transfer references read from what debtors write, and saying there is none."""

from __future__ import annotations

import pytest

from bot.domain.references import parse_reference


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I already paid yesterday, ref TRX884512", ("TRX884512", False)),
        ("no ref nya 88451234", ("88451234", False)),
        ("kode transaksi: FT23A1B2C", ("FT23A1B2C", False)),
        ("ref: 2026112345", ("2026112345", False)),
        ("88451234", ("88451234", False)),
        ("TRX-55-1290", ("TRX-55-1290", False)),
        ("bukti transfer trx99231x", ("TRX99231X", False)),
        ("gk ada no ref, struknya ilang", (None, True)),
        ("tidak ada", (None, True)),
        ("blm punya", (None, True)),
        ("I lost the receipt", (None, True)),
        ("I don't have a reference number", (None, True)),
        ("udh tf 500rb kmrn", (None, False)),
        ("sy tf 20-11-2026 500rb", (None, False)),
        ("nanti sy kirim", (None, False)),
    ],
)
def test_references_in_chat_text(text: str, expected: tuple[str | None, bool]) -> None:
    assert parse_reference(text) == expected
