"""Payments: balance, promises, installment plans, account status, idempotency, validation, CSV import."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot.db import (
    Account,
    AuditLog,
    Installment,
    InstallmentPlan,
    Payment,
    Promise,
    make_engine,
    make_session_factory,
    migrate,
)
from bot.services.accounts import AccountNotFound, ImportValidationError, import_account_rows
from bot.services.payments import (
    InvalidPayment,
    PaymentConflict,
    apply_payment,
    import_payments_csv,
    record_payment,
)
from tests.support import FIXED_NOW

NOW = FIXED_NOW  # Monday 23 November 2026, 10:00 in Jakarta
WIB = ZoneInfo("Asia/Jakarta")
CSV_HEADER = "account_ref,amount,paid_at,reference"


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'tagih.db'}"
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        import_account_rows(
            session,
            [
                account_row("A-1", "1500000", "+6281234567801"),
                account_row("A-2", "750000", "+6281234567802", timezone="Asia/Jayapura"),
                account_row("A-3", "99.50", "+6281234567803", currency="USD"),
            ],
            now=NOW,
        )
    yield factory
    engine.dispose()


def account_row(ref: str, amount: str, phone: str, *, timezone: str = "Asia/Jakarta", currency: str = "IDR") -> dict:
    return {
        "account_ref": ref,
        "name": f"Debtor {ref}",
        "phone": phone,
        "language": "id",
        "timezone": timezone,
        "currency": currency,
        "amount_due": amount,
        "due_date": "2026-11-15",
        "birth_date": "1990-01-01",
    }


def wib(day: int, hour: int = 12, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=WIB)


def pay(factory: sessionmaker[Session], amount: str, reference: str, *, ref: str = "A-1", **kwargs: object):
    kwargs.setdefault("paid_at", wib(22))
    kwargs.setdefault("now", NOW)
    return record_payment(
        factory,
        account_ref=ref,
        amount=amount,
        reference=reference,
        source="api",
        actor="test",
        **kwargs,  # type: ignore[arg-type]
    )


def account(factory: sessionmaker[Session], ref: str = "A-1") -> Account:
    with factory() as session:
        return session.scalars(
            select(Account)
            .where(Account.ref == ref)
            .options(
                selectinload(Account.payments),
                selectinload(Account.promises),
                selectinload(Account.plans).selectinload(InstallmentPlan.installments),
            )
        ).one()


def add_promise(
    factory: sessionmaker[Session], amount: str, promised: date, made_at: datetime, ref: str = "A-1"
) -> int:
    with factory.begin() as session:
        acc = session.scalars(select(Account).where(Account.ref == ref)).one()
        promise = Promise(account_id=acc.id, amount=Decimal(amount), promised_date=promised, created_at=made_at)
        session.add(promise)
        session.flush()
        return promise.id


def add_plan(factory: sessionmaker[Session], amounts: list[str], made_at: datetime, ref: str = "A-1") -> int:
    with factory.begin() as session:
        acc = session.scalars(select(Account).where(Account.ref == ref)).one()
        plan = InstallmentPlan(
            account_id=acc.id,
            total=sum((Decimal(a) for a in amounts), Decimal(0)),
            installment_count=len(amounts),
            created_at=made_at,
        )
        plan.installments = [
            Installment(seq=n, due_date=date(2026, 12, 1) + timedelta(days=30 * (n - 1)), amount=Decimal(a))
            for n, a in enumerate(amounts, start=1)
        ]
        session.add(plan)
        session.flush()
        return plan.id


def count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def promise_status(factory: sessionmaker[Session], promise_id: int) -> str:
    with factory() as session:
        promise = session.get(Promise, promise_id)
        assert promise is not None
        return promise.status


# ---------------------------------------------------------------------------------------------------
# One payment


def test_payment_lowers_the_balance_and_is_audited(factory: sessionmaker[Session]) -> None:
    result = pay(factory, "500000", "BCA-1", paid_at=wib(22, 14))
    assert (result.outcome, result.balance, result.status) == ("created", Decimal("1000000.00"), "active")

    acc = account(factory)
    assert (acc.paid_total, acc.balance, acc.status) == (Decimal("500000.00"), Decimal("1000000.00"), "active")
    payment = acc.payments[0]
    assert (payment.amount, payment.reference, payment.source) == (Decimal("500000.00"), "BCA-1", "api")
    assert payment.paid_at == datetime(2026, 11, 22, 7, tzinfo=timezone.utc)
    with factory() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "payment.recorded")).one()
    assert (entry.actor, entry.entity_type, entry.entity_id) == ("test", "payment", str(payment.id))
    assert entry.details["account"] == "A-1" and entry.details["amount"] == "500000.00"
    assert entry.details["balance"] == "1000000.00" and entry.details["reference"] == "BCA-1"


def test_a_date_alone_is_midnight_where_the_debtor_lives(factory: sessionmaker[Session]) -> None:
    pay(factory, "1000", "D-1", ref="A-2", paid_at=date(2026, 11, 20))  # Asia/Jayapura, UTC+9
    pay(factory, "1000", "D-2", ref="A-2", paid_at="2026-11-21")
    pay(factory, "1000", "D-3", ref="A-2", paid_at="2026-11-21T23:30:00Z")
    paid = [p.paid_at for p in account(factory, "A-2").payments]
    assert paid == [
        datetime(2026, 11, 19, 15, tzinfo=timezone.utc),
        datetime(2026, 11, 20, 15, tzinfo=timezone.utc),
        datetime(2026, 11, 21, 23, 30, tzinfo=timezone.utc),
    ]


def test_promise_is_kept_once_payments_since_it_cover_it_by_its_date(factory: sessionmaker[Session]) -> None:
    promise = add_promise(factory, "600000", date(2026, 11, 25), made_at=wib(20, 9))
    first = pay(factory, "300000", "P-1", paid_at=wib(21))
    assert first.promises_kept == [] and promise_status(factory, promise) == "pending"
    second = pay(factory, "300000", "P-2", paid_at=wib(22))
    assert second.promises_kept == [promise]
    assert promise_status(factory, promise) == "kept"
    assert account(factory).status == "active"  # still 900000 to go


def test_money_paid_after_the_promised_date_does_not_keep_it(factory: sessionmaker[Session]) -> None:
    promise = add_promise(factory, "500000", date(2026, 11, 21), made_at=wib(19, 9))
    result = pay(factory, "500000", "LATE-1", paid_at=wib(22, 0))  # the day after, at local midnight
    assert result.promises_kept == []
    assert promise_status(factory, promise) == "pending"  # the scheduler marks it broken, not payments
    assert account(factory).balance == Decimal("1000000.00")


def test_an_on_time_payment_imported_later_keeps_the_promise(factory: sessionmaker[Session]) -> None:
    promise = add_promise(factory, "500000", date(2026, 11, 21), made_at=wib(19, 9))
    # The bank file arrives on the 23rd, dated the 21st (a date alone: midnight in Jakarta).
    pay(factory, "500000", "BANK-1", paid_at=date(2026, 11, 21), now=NOW)
    assert promise_status(factory, promise) == "kept"


def test_money_known_before_the_promise_does_not_count_toward_it(factory: sessionmaker[Session]) -> None:
    pay(factory, "500000", "EARLY-1", paid_at=wib(20, 8), now=wib(20, 9))
    promise = add_promise(factory, "500000", date(2026, 11, 25), made_at=wib(20, 11))
    pay(factory, "100000", "AFTER-1", paid_at=wib(21), now=wib(21, 13))
    assert promise_status(factory, promise) == "pending"
    pay(factory, "400000", "AFTER-2", paid_at=wib(22), now=NOW)
    assert promise_status(factory, promise) == "kept"


def test_installments_are_paid_in_sequence_and_the_plan_completes(factory: sessionmaker[Session]) -> None:
    plan_id = add_plan(factory, ["500000", "500000", "500000"], made_at=wib(18))

    def installments() -> list[str]:
        return [i.status for i in account(factory).plans[0].installments]

    first = pay(factory, "500000", "I-1", paid_at=wib(20), now=wib(20, 13))
    assert first.installments_paid == [(plan_id, 1)] and installments() == ["paid", "pending", "pending"]
    second = pay(factory, "700000", "I-2", paid_at=wib(21), now=wib(21, 13))
    assert second.installments_paid == [(plan_id, 2)] and installments() == ["paid", "paid", "pending"]
    assert account(factory).plans[0].status == "active"
    last = pay(factory, "300000", "I-3", paid_at=wib(22))
    assert last.installments_paid == [(plan_id, 3)] and last.plans_completed == [plan_id]
    acc = account(factory)
    assert installments() == ["paid", "paid", "paid"]
    assert (acc.plans[0].status, acc.balance, acc.status) == ("completed", Decimal("0.00"), "paid")
    assert last.plans_cancelled == []


def test_payments_recorded_before_the_plan_do_not_pay_its_installments(factory: sessionmaker[Session]) -> None:
    pay(factory, "300000", "PRE-1", paid_at=wib(17), now=wib(17, 13))
    add_plan(factory, ["600000", "600000"], made_at=wib(18))
    pay(factory, "500000", "POST-1", paid_at=wib(20), now=wib(20, 13))
    assert [i.status for i in account(factory).plans[0].installments] == ["pending", "pending"]


def test_paying_the_balance_marks_the_account_paid_and_cancels_open_promises(factory: sessionmaker[Session]) -> None:
    lapsed = add_promise(factory, "200000", date(2026, 11, 19), made_at=wib(17))
    result = pay(factory, "1500000", "FULL-1", paid_at=wib(22))
    assert (result.balance, result.status, result.promises_cancelled) == (Decimal("0.00"), "paid", [lapsed])
    assert promise_status(factory, lapsed) == "cancelled"
    acc = account(factory)
    assert (acc.balance, acc.status) == (Decimal("0.00"), "paid")
    with factory() as session:
        details = session.scalars(select(AuditLog).where(AuditLog.action == "payment.recorded")).one().details
    assert details["status"] == {"before": "active", "after": "paid"} and details["promises_cancelled"] == [lapsed]


def test_a_plan_left_open_at_zero_balance_is_cancelled(factory: sessionmaker[Session]) -> None:
    plan_id = add_plan(factory, ["500000", "500000", "500000"], made_at=wib(18))
    with factory.begin() as session:  # the lender lowers the amount due after the plan was agreed
        import_account_rows(session, [account_row("A-1", "900000", "+6281234567801")], now=wib(19))
    result = pay(factory, "900000", "LOW-1", paid_at=wib(22))
    assert result.installments_paid == [(plan_id, 1)] and result.plans_cancelled == [plan_id]
    plan = account(factory).plans[0]
    assert plan.status == "cancelled" and [i.status for i in plan.installments] == ["paid", "pending", "pending"]
    assert account(factory).status == "paid"


def test_overpayment_leaves_a_zero_balance(factory: sessionmaker[Session]) -> None:
    pay(factory, "1500000", "OVER-1")
    result = pay(factory, "1000", "OVER-2")
    assert (result.outcome, result.balance, result.status) == ("created", Decimal("0.00"), "paid")
    assert account(factory).paid_total == Decimal("1501000.00")


# ---------------------------------------------------------------------------------------------------
# Idempotency and conflicts


def test_the_same_payment_again_is_a_duplicate_and_changes_nothing(factory: sessionmaker[Session]) -> None:
    promise = add_promise(factory, "900000", date(2026, 11, 25), made_at=wib(20))
    first = pay(factory, "500000", "TX-1")
    audit_entries = count(factory, AuditLog)
    again = pay(factory, "500000.00", "TX-1", paid_at="2026-11-22T05:00:00+00:00")
    assert again.outcome == "duplicate" and again.payment.id == first.payment.id
    assert (again.balance, again.status) == (Decimal("1000000.00"), "active")
    assert count(factory, Payment) == 1 and count(factory, AuditLog) == audit_entries
    assert promise_status(factory, promise) == "pending"


@pytest.mark.parametrize(
    ("ref", "amount", "reason"),
    [
        ("A-1", "500001", "already recorded with amount 500000.00"),
        ("A-2", "500000", "already recorded for account A-1"),
    ],
)
def test_the_same_reference_for_another_amount_or_account_is_a_conflict(
    factory: sessionmaker[Session], ref: str, amount: str, reason: str
) -> None:
    pay(factory, "500000", "TX-1")
    with pytest.raises(PaymentConflict, match=reason):
        pay(factory, amount, "TX-1", ref=ref)
    assert count(factory, Payment) == 1
    assert account(factory, "A-2").balance == Decimal("750000.00")


def test_a_racing_insert_of_the_same_reference_is_answered_as_a_duplicate(factory: sessionmaker[Session]) -> None:
    raced: list[bool] = []

    def other_request_wins(session: Session, *_: object) -> None:
        # Another request records the same payment after our lookup, just before our insert.
        if not raced and any(isinstance(o, Payment) for o in session.new):
            raced.append(True)
            pay(factory, "500000", "RACE-1")

    event.listen(factory, "before_flush", other_request_wins)
    result = pay(factory, "500000", "RACE-1")
    assert raced and result.outcome == "duplicate"
    assert count(factory, Payment) == 1 and account(factory).balance == Decimal("1000000.00")


# ---------------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"amount": "0"}, "amount", "greater than 0"),
        ({"amount": "-5"}, "amount", "greater than 0"),
        ({"amount": Decimal("-0.01")}, "amount", "greater than 0"),
        ({"amount": "1.234"}, "amount", "more than 2 decimal places"),
        ({"amount": "12,50"}, "amount", "not a decimal amount"),
        ({"amount": 12.5}, "amount", "not a binary float"),
        ({"amount": Decimal("NaN")}, "amount", "finite"),
        ({"amount": "1000000000000000"}, "amount", "too large"),
        ({"amount": ""}, "amount", "is required"),
        ({"reference": "  "}, "reference", "is required"),
        ({"reference": "R" * 129}, "reference", "longer than 128"),
        ({"paid_at": datetime(2026, 11, 22, 12)}, "paid_at", "timezone-aware"),
        ({"paid_at": "2026-11-22T12:00:00"}, "paid_at", "no UTC offset"),
        ({"paid_at": "22/11/2026"}, "paid_at", "not an ISO 8601"),
        ({"paid_at": "2026-02-30"}, "paid_at", "not a valid date"),
        ({"paid_at": NOW + timedelta(seconds=1)}, "paid_at", "in the future"),
        ({"paid_at": date(2026, 11, 24)}, "paid_at", "in the future"),  # tomorrow in Jakarta
        ({"currency": "USD"}, "currency", "is USD but account A-1 is in IDR"),
        ({"currency": "RUPIAH"}, "currency", "3-letter"),
    ],
)
def test_invalid_payments_are_refused_with_a_reason(
    factory: sessionmaker[Session], changes: dict, field: str, reason: str
) -> None:
    values: dict = {"amount": "500000", "reference": "BAD-1", "paid_at": wib(22)} | changes
    with pytest.raises(InvalidPayment) as caught:
        pay(factory, values.pop("amount"), values.pop("reference"), **values)
    assert [p.field for p in caught.value.problems] == [field]
    assert reason in str(caught.value)
    assert count(factory, Payment) == 0 and count(factory, AuditLog) == 1  # the account import only


def test_every_problem_is_reported_at_once(factory: sessionmaker[Session]) -> None:
    with pytest.raises(InvalidPayment) as caught:
        pay(factory, "-1", "", paid_at="yesterday")
    assert sorted(p.field for p in caught.value.problems) == ["amount", "paid_at", "reference"]


def test_the_currency_is_accepted_in_any_case_when_it_matches(factory: sessionmaker[Session]) -> None:
    assert pay(factory, "10.50", "USD-1", ref="A-3", currency="usd").balance == Decimal("89.00")


def test_unknown_account(factory: sessionmaker[Session]) -> None:
    with pytest.raises(AccountNotFound, match="no account with ref 'NOPE'"):
        pay(factory, "1", "X-1", ref="NOPE")
    assert count(factory, Payment) == 0


def test_apply_payment_writes_nothing_until_the_caller_commits(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        apply_payment(
            session,
            account_ref="A-1",
            amount=Decimal("1.00"),
            paid_at=wib(22),
            reference="ROLLBACK-1",
            source="agent",
            actor="agent:siti",
            now=NOW,
        )
        session.rollback()
    assert count(factory, Payment) == 0


# ---------------------------------------------------------------------------------------------------
# CSV import


def write_csv(tmp_path: Path, *lines: str, header: str = CSV_HEADER) -> Path:
    path = tmp_path / "payments.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_csv_import_records_every_row_and_a_second_import_changes_nothing(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    promise = add_promise(factory, "250000", date(2026, 11, 21), made_at=wib(18))
    path = write_csv(
        tmp_path,
        "A-1,250000,2026-11-21,BCA-001",
        "A-1,1250000.00,2026-11-22T09:15:00+07:00,BCA-002",
        "A-2,100000,2026-11-22,BCA-003",
    )
    report = import_payments_csv(factory, path, now=NOW)
    assert (report.created, report.duplicates, report.skipped, report.errors) == (3, 0, 0, [])
    a1, a2 = account(factory, "A-1"), account(factory, "A-2")
    assert (a1.balance, a1.status) == (Decimal("0.00"), "paid")
    assert {p.source for p in a1.payments} == {"import"}
    assert a2.balance == Decimal("650000.00")
    assert a2.payments[0].paid_at == datetime(2026, 11, 21, 15, tzinfo=timezone.utc)  # midnight in Jayapura
    assert promise_status(factory, promise) == "kept"
    with factory() as session:
        summary = session.scalars(select(AuditLog).where(AuditLog.action == "payments.import")).one()
    assert summary.details["created"] == 3 and summary.details["source"] == str(path)

    payments_before = count(factory, Payment)
    again = import_payments_csv(factory, path, now=NOW + timedelta(hours=1))
    assert (again.created, again.duplicates, again.skipped) == (0, 3, 0)
    assert count(factory, Payment) == payments_before
    assert account(factory, "A-2").balance == Decimal("650000.00")


def test_csv_bad_rows_are_reported_with_line_numbers_and_nothing_is_imported(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        "A-1,500000,2026-11-21,OK-1",
        "A-1,0,2026-11-21,BAD-1",
        "NOPE,100,2026-11-21,BAD-2",
        "A-2,100,2026-11-30,BAD-3",
        "A-1,12.345,2026-11-21T10:00,",
        "",
        "A-1,100",
    )
    with pytest.raises(ImportValidationError) as caught:
        import_payments_csv(factory, path, now=NOW)
    found = [(e.line, e.field) for e in caught.value.errors]
    assert found == [
        (3, "amount"),
        (4, "account_ref"),
        (5, "paid_at"),
        (6, "amount"),
        (6, "paid_at"),
        (6, "reference"),
        (8, "row"),
    ]
    messages = {(e.line, e.field): e.message for e in caught.value.errors}
    assert "greater than 0" in messages[(3, "amount")] and "in the future" in messages[(5, "paid_at")]
    assert "expected 4 fields, found 2" in messages[(8, "row")]
    assert count(factory, Payment) == 0


def test_csv_skip_invalid_imports_the_good_rows(factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = write_csv(tmp_path, "A-1,500000,2026-11-21,OK-1", "A-1,abc,2026-11-21,BAD-1")
    report = import_payments_csv(factory, path, skip_invalid=True, now=NOW)
    assert (report.created, report.duplicates, report.skipped) == (1, 0, 1)
    assert [(e.line, e.field) for e in report.errors] == [(3, "amount")]
    assert account(factory).balance == Decimal("1000000.00")


def test_csv_repeated_references_within_the_file(factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "A-1,100,2026-11-21,SAME-1",
        "A-1,100.00,2026-11-21,SAME-1",
        "A-1,100,2026-11-21,MIXED-1",
        "A-2,100,2026-11-21,MIXED-1",
    )
    with pytest.raises(ImportValidationError) as caught:
        import_payments_csv(factory, path, now=NOW)
    messages = {e.line: e.message for e in caught.value.errors}
    assert set(messages) == {3, 4, 5}
    assert "duplicate of line 2" in messages[3]
    assert "on lines 4, 5 with different accounts or amounts" in messages[4]
    report = import_payments_csv(factory, path, skip_invalid=True, now=NOW)
    assert (report.created, report.skipped) == (1, 3)
    assert [p.reference for p in account(factory).payments] == ["SAME-1"]


def test_csv_reference_recorded_for_another_payment_is_an_error(factory: sessionmaker[Session], tmp_path: Path) -> None:
    pay(factory, "500000", "TX-1")
    path = write_csv(tmp_path, "A-1,400000,2026-11-21,TX-1", "A-2,500000,2026-11-22,TX-1")
    with pytest.raises(ImportValidationError) as caught:
        import_payments_csv(factory, path, now=NOW)
    messages = [(e.line, e.message) for e in caught.value.errors if "already recorded" in e.message]
    assert messages == [
        (2, "reference 'TX-1' is already recorded with amount 500000.00, not 400000.00"),
        (3, "reference 'TX-1' is already recorded for account A-1"),
    ]
    assert count(factory, Payment) == 1


def test_csv_optional_currency_column_must_match(factory: sessionmaker[Session], tmp_path: Path) -> None:
    header = CSV_HEADER + ",currency"
    path = write_csv(tmp_path, "A-1,100,2026-11-21,C-1,IDR", "A-3,1.50,2026-11-21,C-2,IDR", header=header)
    with pytest.raises(ImportValidationError) as caught:
        import_payments_csv(factory, path, now=NOW)
    assert [(e.line, e.field) for e in caught.value.errors] == [(3, "currency")]


@pytest.mark.parametrize(
    ("header", "field", "reason"),
    [
        ("account_ref,amount,paid_at", "reference", "missing required column"),
        ("account_ref,amount,paid_at,reference,note", "note", "unknown column"),
    ],
)
def test_csv_header_problems(
    factory: sessionmaker[Session], tmp_path: Path, header: str, field: str, reason: str
) -> None:
    path = write_csv(tmp_path, "A-1,100,2026-11-21,H-1", header=header)
    with pytest.raises(ImportValidationError) as caught:
        import_payments_csv(factory, path, now=NOW)
    assert [(e.line, e.field, e.message) for e in caught.value.errors] == [(1, field, reason)]
    assert count(factory, Payment) == 0


# ---------------------------------------------------------------------------------------------------
# Early settlement: a kept settlement promise waives the rest


def settlement(factory: sessionmaker[Session], *, promised: date, amount: str = "1500000", percent: int = 10):
    from bot.domain.schedule import InstallmentPolicy
    from bot.services.arrangements import record_promise
    from bot.services.policy import ArrangementPolicy, EarlySettlement

    policy = ArrangementPolicy(14, InstallmentPolicy(6, Decimal(100000), 14), EarlySettlement(Decimal(percent), 7))
    with factory.begin() as session:
        acc = session.scalars(select(Account).where(Account.ref == "A-1")).one()
        promise = record_promise(
            session,
            account=acc,
            conversation=None,
            amount=Decimal(amount),
            promised_date=promised,
            kind="promise",
            today=date(2026, 11, 23),
            policy=policy,
        )
        promise.created_at = wib(23, 9)
        return promise.id, promise.kind, promise.amount


def test_a_full_promise_within_the_offer_becomes_a_discounted_settlement(factory: sessionmaker[Session]) -> None:
    promise, kind, amount = settlement(factory, promised=date(2026, 11, 30))
    assert (kind, amount) == ("settlement", Decimal("1350000.00"))
    with factory() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "settlement.recorded")).one()
        assert entry.details["waived_when_paid"] == "150000.00" and entry.details["discount_percent"] == "10"
    result = pay(factory, "1350000", "SETTLE-1", paid_at=wib(27), now=wib(28))
    assert result.promises_kept == [promise] and result.waived == Decimal("150000.00")
    settled = account(factory)
    assert settled.balance == 0 and settled.status == "paid" and settled.waived == Decimal("150000.00")
    assert settled.paid_total == Decimal("1350000.00"), "the waiver is not money received"


def test_the_discount_is_only_for_paying_in_full_by_the_offer_deadline(factory: sessionmaker[Session]) -> None:
    _, kind, amount = settlement(factory, promised=date(2026, 12, 2))  # after the 7-day window
    assert (kind, amount) == ("promise", Decimal("1500000"))
    _, kind, _ = settlement(factory, promised=date(2026, 11, 30), amount="1000000")  # not the whole balance
    assert kind == "promise"


def test_a_settlement_paid_late_or_short_waives_nothing(factory: sessionmaker[Session]) -> None:
    promise, _, _ = settlement(factory, promised=date(2026, 11, 25))
    short = pay(factory, "1000000", "SHORT-1", paid_at=wib(24), now=wib(28))
    assert short.waived == 0 and promise_status(factory, promise) == "pending"
    late = pay(factory, "350000", "LATE-2", paid_at=wib(27), now=wib(28))  # enough in total, but after the date
    assert late.waived == 0 and late.promises_kept == []
    assert account(factory).balance == Decimal("150000.00") and account(factory).waived == 0
