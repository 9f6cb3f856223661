"""The arithmetic of negotiation: a monthly amount as a number of installments with a smaller last one,
and monthly offers read from chat text."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.domain.amounts import parse_per_month
from bot.domain.schedule import InstallmentPolicy, check_installment_request, count_for_amount, installment_schedule


@pytest.mark.parametrize(
    ("total", "amount", "count"),
    [("2400000", "500000", 5), ("2500000", "500000", 5), ("2500001", "500000", 6), ("900000", "1000000", 1)],
)
def test_a_monthly_amount_is_a_number_of_installments(total: str, amount: str, count: int) -> None:
    assert count_for_amount(Decimal(total), Decimal(amount)) == count


def test_installments_of_the_offered_amount_with_a_smaller_last_one() -> None:
    schedule = installment_schedule(Decimal("2400000"), 5, date(2026, 12, 1), amount=Decimal("500000"))
    assert [i.amount for i in schedule] == [Decimal("500000")] * 4 + [Decimal("400000")]
    assert [i.due_date for i in schedule][-1] == date(2027, 4, 1)
    assert sum(i.amount for i in schedule) == Decimal("2400000")
    with pytest.raises(ValueError, match="do not pay"):
        installment_schedule(Decimal("2400000"), 4, date(2026, 12, 1), amount=Decimal("500000"))


def test_the_minimum_applies_to_the_offered_amount_not_the_smaller_last_one() -> None:
    policy = InstallmentPolicy(max_installments=6, min_installment=Decimal("100000"), max_first_days=14)
    today = date(2026, 11, 23)
    assert (
        check_installment_request(
            Decimal("1050000"), 3, date(2026, 12, 1), today=today, policy=policy, amount=Decimal("500000")
        )
        == []
    )  # 500,000 + 500,000 + 50,000: the last one may be below the minimum
    assert check_installment_request(
        Decimal("594000"), 6, date(2026, 12, 1), today=today, policy=policy, amount=Decimal("99000")
    ) == ["installment_below_minimum"]


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("500rb per bulan bisa?", "500000"),
        ("sy sanggupnya 300rb sebulan", "300000"),
        ("1,5jt/bln", "1500000"),
        ("can I do 500k a month", "500000"),
        ("tiap bulan 250 ribu", "250000"),
        ("bisa dicicil 6 kali?", None),
        ("sy bayar 500rb bulan depan", None),
    ],
)
def test_monthly_offers_in_chat_text(text: str, amount: str | None) -> None:
    assert parse_per_month(text) == (Decimal(amount) if amount else None)


def test_what_reads_as_the_whole_balance_and_as_paying():
    from bot.domain.amounts import FULL_AMOUNT
    from bot.domain.message_parts import says_paid, says_will_pay, split_rest

    for text in ("sy lunasin jumat", "dilunasi besok", "the whole amount pls", "i'll clear that one", "pay it off"):
        assert FULL_AMOUNT.search(text), text
    assert not FULL_AMOUNT.search("sy bayar 500rb")
    from decimal import Decimal

    from bot.domain.amounts import amount_meant

    assert amount_meant("sy lunasin jumat", Decimal("1200000")) == Decimal("1200000")
    assert amount_meant("sy bayar 500rb", Decimal("1200000")) == Decimal("500000")
    assert amount_meant("jumat ya", Decimal("1200000")) is None
    assert says_paid("kemarin udh sy tf 300rb") and says_paid("sent 300k this morning")
    assert not says_paid("sy tf jumat ya") and says_will_pay("sy tf jumat ya")
    assert not says_will_pay("udh sy bayar kmrn")
    assert split_rest("udh tf 500rb, sisanya jumat") == ("udh tf 500rb, ", "sisanya jumat")
    assert split_rest("sy bayar jumat") == ("sy bayar jumat", "")
