"""Payment claims ("sy udh tf kmrn"): which payment dates a debtor's claim may be about. A payment
older than the window, or in the future, is not the bot's to record: it asks again or leaves it to an
agent."""

from __future__ import annotations

from datetime import date, timedelta

CLAIM_WINDOW_DAYS = 90


def claimable(paid_on: date, *, today: date) -> bool:
    """Whether a claimed payment date is within the window (today included, nothing in the future)."""
    return today - timedelta(days=CLAIM_WINDOW_DAYS) <= paid_on <= today
