"""Which of a verified debtor's accounts a message names (several accounts, issue 13)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from bot.services.identity import mentioned_account, mentions_ref, open_accounts

NOW = datetime(2026, 11, 23, 3, tzinfo=timezone.utc)


def account(ref: str, *, balance: str = "100000", dpd: int = 0, status: str = "active") -> SimpleNamespace:
    return SimpleNamespace(
        ref=ref, id=ref, balance=Decimal(balance), status=status, days_past_due=lambda now=None, d=dpd: d
    )


DEBTOR = SimpleNamespace(accounts=[account("CV-1541822"), account("CV-1541822-2"), account("DEMO-1008")])


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("sy mau bahas yg CV-1541822-2 aja", "CV-1541822-2"),  # the longer of two that both match
        ("cv 1541822 dulu", "CV-1541822"),
        ("yg demo1008", "DEMO-1008"),
        ('/inform{"account_ref":"DEMO-1008"}', "DEMO-1008"),  # the account choice's button
        ("CV-15418223", None),  # a longer number is not this account
        ("ZZ-9999999", None),  # someone else's or nobody's: never said which
    ],
)
def test_the_account_a_message_names(text, ref):
    found = mentioned_account(DEBTOR, text)
    assert (found.ref if found else None) == ref
    assert mentions_ref(text)  # worth looking for an account at all


def test_ordinary_answers_name_no_account():
    assert not mentions_ref("ok sy bayar jumat tgl 27")
    assert mentioned_account(DEBTOR, "ok sy bayar jumat tgl 27") is None


def test_open_accounts_longest_overdue_first_without_settled_or_closed():
    debtor = SimpleNamespace(
        accounts=[
            account("A", dpd=3),
            account("B", dpd=40),
            account("C", balance="0", dpd=90),
            account("D", dpd=60, status="closed"),
            account("E", dpd=40, balance="900000"),
        ]
    )
    assert [a.ref for a in open_accounts(debtor, now=NOW)] == ["E", "B", "A"]
