"""Which payment dates a claim may be about, and the virtual account a debtor pays into."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.domain.claims import CLAIM_WINDOW_DAYS, claimable
from bot.domain.references import virtual_account_for

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("paid_on", "allowed"),
    [
        (TODAY, True),
        (TODAY - timedelta(days=1), True),
        (TODAY - timedelta(days=CLAIM_WINDOW_DAYS), True),
        (TODAY - timedelta(days=CLAIM_WINDOW_DAYS + 1), False),
        (TODAY + timedelta(days=1), False),
    ],
)
def test_a_claim_is_for_a_payment_within_the_window(paid_on, allowed):
    assert claimable(paid_on, today=TODAY) is allowed


def test_the_virtual_account_is_the_lenders_or_derived_from_the_reference():
    assert virtual_account_for("DEMO-1002", None, "8808") == "880800001002"
    assert virtual_account_for("DEMO-1002", "1234567890", "8808") == "1234567890"
    assert virtual_account_for("ABC", "", "8808") == "880800000000"
