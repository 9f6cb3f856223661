"""Payments: record money received, exactly once, and let it settle promises, plans and the account.

A payment is identified by its ``reference`` (the bank's or payment gateway's transaction id). Sending
the same payment again (same reference, account and amount) returns the recorded one and changes
nothing, so callers can retry freely; the same reference with another account or amount is a
conflict, never a silent overwrite.

What a new payment settles, inside the caller's transaction:

- the balance: derived from the payments, so there is nothing to update;
- pending promises: kept when the money paid since the promise was made, up to its promised date,
  covers its amount. "Since" means recorded after the promise (money already known then is what
  the debtor promised against) and paid on or after the day it was made; "up to" compares days in
  the debtor's timezone, because bank statements carry dates only: a transfer on the promised
  date, imported the next morning as "midnight that day", still keeps it. Money paid after the
  promised date never keeps a promise; an unpaid promise stays pending for the scheduler to mark
  broken;
- active installment plans: a plan's total is the balance known when it was agreed, so the payments
  recorded after that are exactly what goes toward it (whatever date the bank put on them).
  Installments are marked paid in sequence as that money covers them; the plan is completed when
  all are;
- a kept ``settlement`` promise (the collection policy's early-settlement offer, accepted) waives what
  is left of the balance (``accounts.waived``, audited with the payment);
- a balance of zero marks the account ``paid`` and cancels the promises and plans still open (a
  plan can only be open then if the amount due was lowered after it was agreed).

CSV files (``account_ref,amount,paid_at,reference``, optional ``currency``) are validated row by row
first and then imported in one transaction; importing the same file again only finds duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot.db.models import PAYMENT_SOURCES, Account, Debtor, InstallmentPlan, Payment, utcnow
from bot.errors import ConflictError, InvalidInputError, Problem
from bot.imports import ImportValidationError, chunks, problem_dicts, read_csv, refuse_or_skip
from bot.services.accounts import AccountNotFound
from bot.services.audit import audit

__all__ = [
    "PAYMENT_COLUMNS",
    "PAYMENT_OPTIONAL_COLUMNS",
    "InvalidPayment",
    "PaymentConflict",
    "PaymentImportReport",
    "PaymentResult",
    "apply_payment",
    "import_payment_rows",
    "import_payments_csv",
    "parse_amount",
    "parse_paid_at",
    "record_payment",
]

PAYMENT_COLUMNS = ("account_ref", "amount", "paid_at", "reference")
PAYMENT_OPTIONAL_COLUMNS = ("currency",)
_ALL_COLUMNS = PAYMENT_COLUMNS + PAYMENT_OPTIONAL_COLUMNS

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_MAX_AMOUNT = Decimal(10) ** 15
_MAX_REFERENCE = 128  # Payment.reference column length
_MAX_ACCOUNT_REF = 64
_AMOUNT_RE = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CURRENCY_RE = re.compile(r"^[A-Za-z]{3}$")


# ---------------------------------------------------------------------------------------------------
# Errors and results


def _problem(field: str, message: str) -> Problem:
    return Problem.of(message, field=field)


class InvalidPayment(InvalidInputError):
    """The input is wrong and nothing was written; ``problems`` lists every field at fault and why."""

    code = "invalid_payment"


class PaymentConflict(ConflictError):
    """The reference is already recorded for another account or another amount."""

    code = "reference_conflict"

    def __init__(self, reference: str, message: str) -> None:
        self.reference = reference
        super().__init__(message)


@dataclass
class PaymentResult:
    """The recorded payment and what it changed (all empty for a duplicate)."""

    outcome: Literal["created", "duplicate"]
    payment: Payment
    account: Account
    balance: Decimal
    paid_total: Decimal
    status: str
    promises_kept: list[int] = field(default_factory=list)
    promises_cancelled: list[int] = field(default_factory=list)
    installments_paid: list[tuple[int, int]] = field(default_factory=list)  # (plan id, seq)
    plans_completed: list[int] = field(default_factory=list)
    plans_cancelled: list[int] = field(default_factory=list)
    waived: Decimal = Decimal("0")  # the early-settlement discount a kept settlement promise granted


@dataclass
class PaymentImportReport:
    created: int
    duplicates: int
    skipped: int
    errors: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "errors": problem_dicts(self.errors),
        }


# ---------------------------------------------------------------------------------------------------
# Parsing (pure: no database)


def parse_amount(value: object) -> Decimal:
    """A positive amount with at most 2 decimals, from a Decimal, an int or decimal text.

    Floats are refused: a binary fraction is not an amount of money (parse JSON with
    ``parse_float=Decimal``).
    """
    if isinstance(value, bool):
        raise ValueError("must be a decimal string (e.g. '150000.50') or a number, not a boolean")
    if isinstance(value, float):
        raise ValueError("must be a decimal string (e.g. '150000.50') or an integer, not a binary float")
    if isinstance(value, str):
        text = value.strip()
        if not _AMOUNT_RE.match(text):
            raise ValueError(f"not a decimal amount: {value!r} (write 150000 or 150000.50)")
        value = Decimal(text)
    elif isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise ValueError(f"must be a decimal amount, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"must be a finite amount, got {value}")
    if value <= 0:
        raise ValueError(f"must be greater than 0, got {value}")
    if value >= _MAX_AMOUNT:
        raise ValueError(f"is too large: {value}")
    try:
        quantized = value.quantize(CENT)
    except InvalidOperation as exc:  # pragma: no cover - ruled out by the size check
        raise ValueError(f"is not a usable amount: {value}") from exc
    if quantized != value:
        raise ValueError(f"has more than 2 decimal places: {value}")
    return quantized


def parse_paid_at(text: str) -> datetime | date:
    """An ISO 8601 datetime with a UTC offset, or a date alone (the caller makes it the debtor's midnight).

    A datetime without an offset is refused: whose clock it was read from is unknowable.
    """
    raw = text.strip()
    if _DATE_RE.match(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise ValueError(f"not a valid date: {text!r}") from exc
    # Python 3.10's fromisoformat does not read the "Z" suffix.
    candidate = raw[:-1] + "+00:00" if raw[-1:] in ("Z", "z") else raw
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError as exc:
        raise ValueError(
            f"not an ISO 8601 date or datetime: {text!r} (e.g. 2026-11-20 or 2026-11-20T14:30:00+07:00)"
        ) from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(
            f"has no UTC offset: {text!r} (write 2026-11-20T14:30:00+07:00, or a date alone for "
            "midnight in the debtor's timezone)"
        )
    return parsed


def _text(value: object) -> str | None:
    """Stripped text, ``None`` when empty; anything but a string is a TypeError."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError
    return value.strip() or None


@dataclass
class _Input:
    account_ref: str
    amount: Decimal
    paid_at: datetime | date
    reference: str
    currency: str | None


def _check_input(
    account_ref: object, amount: object, paid_at: object, reference: object, currency: object
) -> tuple[_Input | None, list[Problem]]:
    """Every problem visible without the database, all at once."""
    problems: list[Problem] = []

    def text(name: str, value: object, *, required: bool, limit: int | None = None) -> str | None:
        try:
            cleaned = _text(value)
        except TypeError:
            problems.append(_problem(name, "must be text"))
            return None
        if cleaned is None:
            if required:
                problems.append(_problem(name, "is required"))
            return None
        if limit is not None and len(cleaned) > limit:
            problems.append(_problem(name, f"is longer than {limit} characters"))
            return None
        return cleaned

    ref = text("account_ref", account_ref, required=True, limit=_MAX_ACCOUNT_REF)

    value: Decimal | None = None
    if amount is None or (isinstance(amount, str) and not amount.strip()):
        problems.append(_problem("amount", "is required"))
    else:
        try:
            value = parse_amount(amount)
        except ValueError as exc:
            problems.append(_problem("amount", str(exc)))

    when: datetime | date | None = None
    if isinstance(paid_at, datetime):
        if paid_at.tzinfo is None or paid_at.utcoffset() is None:
            problems.append(_problem("paid_at", "must be timezone-aware"))
        else:
            when = paid_at
    elif isinstance(paid_at, date):
        when = paid_at
    elif isinstance(paid_at, str) and paid_at.strip():
        try:
            when = parse_paid_at(paid_at)
        except ValueError as exc:
            problems.append(_problem("paid_at", str(exc)))
    elif paid_at is None or isinstance(paid_at, str):
        problems.append(_problem("paid_at", "is required"))
    else:
        problems.append(_problem("paid_at", "must be an ISO 8601 date or datetime"))

    reference_text = text("reference", reference, required=True, limit=_MAX_REFERENCE)
    code = text("currency", currency, required=False)
    if code is not None:
        if _CURRENCY_RE.match(code):
            code = code.upper()
        else:
            problems.append(_problem("currency", f"must be a 3-letter ISO 4217 code, got {code!r}"))

    if problems:
        return None, problems
    assert ref is not None and reference_text is not None and value is not None and when is not None
    return _Input(account_ref=ref, amount=value, paid_at=when, reference=reference_text, currency=code), []


def _as_instant(paid_at: datetime | date, tz: ZoneInfo) -> datetime:
    """UTC instant of ``paid_at``; a date alone is midnight where the debtor lives."""
    if not isinstance(paid_at, datetime):
        paid_at = datetime.combine(paid_at, time(0), tzinfo=tz)
    return paid_at.astimezone(timezone.utc)


def _check_against_account(
    item: _Input, *, currency: str, tz: ZoneInfo, now: datetime
) -> tuple[datetime, list[Problem]]:
    problems = []
    if item.currency is not None and item.currency != currency:
        problems.append(_problem("currency", f"is {item.currency} but account {item.account_ref} is in {currency}"))
    instant = _as_instant(item.paid_at, tz)
    if instant > now:
        problems.append(
            _problem(
                "paid_at",
                f"is in the future: {instant.isoformat()} is after now ({now.astimezone(timezone.utc).isoformat()})",
            )
        )
    return instant, problems


def _aware(now: datetime | None) -> datetime:
    now = now or utcnow()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now


# ---------------------------------------------------------------------------------------------------
# One payment


def _load_account(session: Session, ref: str) -> Account | None:
    return session.scalars(
        select(Account)
        .where(Account.ref == ref)
        .options(
            selectinload(Account.debtor),
            selectinload(Account.payments),
            selectinload(Account.promises),
            selectinload(Account.plans).selectinload(InstallmentPlan.installments),
        )
        # PostgreSQL: payments to one account queue up, so each sees the others' effect on the
        # balance. SQLite ignores it (its writers are serialised anyway).
        .with_for_update(of=Account)
    ).one_or_none()


def _local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


@dataclass
class _Effects:
    promises_kept: list[int] = field(default_factory=list)
    promises_cancelled: list[int] = field(default_factory=list)
    installments_paid: list[tuple[int, int]] = field(default_factory=list)
    plans_completed: list[int] = field(default_factory=list)
    plans_cancelled: list[int] = field(default_factory=list)
    waived: Decimal = ZERO


def _settle(account: Account, payment: Payment, tz: ZoneInfo, now: datetime) -> _Effects:
    """Apply a new payment's consequences to the account's promises, plans and status."""
    result = _Effects()
    paid_on = _local_day(payment.paid_at, tz)
    for promise in account.promises:
        if promise.status != "pending":
            continue
        made_at = promise.created_at or now
        start = _local_day(made_at, tz)
        # Only the payment that completes a promise on time keeps it: a later payment never
        # turns a lapsed promise into a kept one.
        if not start <= paid_on <= promise.promised_date:
            continue
        covered = sum(
            (
                p.amount
                for p in account.payments
                if p.created_at >= made_at and start <= _local_day(p.paid_at, tz) <= promise.promised_date
            ),
            ZERO,
        )
        if covered >= promise.amount:
            promise.status = "kept"
            result.promises_kept.append(promise.id)
            if promise.kind == "settlement" and account.balance > ZERO:
                # the discounted amount was paid in full on time: the rest is waived, as offered
                remaining = account.balance
                result.waived += remaining
                account.waived = (account.waived or ZERO) + remaining

    for plan in account.plans:
        if plan.status != "active":
            continue
        agreed_at = plan.created_at or now
        paid_toward = sum((p.amount for p in account.payments if p.created_at >= agreed_at), ZERO)
        running = ZERO
        for installment in plan.installments:
            running += installment.amount
            if running > paid_toward:
                break
            if installment.status != "paid":
                installment.status = "paid"
                result.installments_paid.append((plan.id, installment.seq))
        if plan.installments and all(i.status == "paid" for i in plan.installments):
            plan.status = "completed"
            result.plans_completed.append(plan.id)

    if account.balance == ZERO:
        account.status = "paid"
        for promise in account.promises:
            if promise.status == "pending":
                promise.status = "cancelled"
                result.promises_cancelled.append(promise.id)
        for plan in account.plans:
            if plan.status == "active":
                plan.status = "cancelled"
                result.plans_cancelled.append(plan.id)
    return result


def apply_payment(
    session: Session,
    *,
    account_ref: str,
    amount: Decimal | int | str,
    paid_at: datetime | date | str,
    reference: str,
    source: str,
    actor: str,
    now: datetime | None = None,
    currency: str | None = None,
) -> PaymentResult:
    """Record one payment (or find it already recorded) in the caller's transaction; no commit.

    ``paid_at`` is an aware datetime, a date (midnight in the debtor's timezone) or ISO text of
    either. Raises InvalidPayment (every field problem), AccountNotFound or PaymentConflict; in each
    case nothing has been written.
    """
    now = _aware(now)
    if source not in PAYMENT_SOURCES:
        raise InvalidPayment([_problem("source", f"must be one of {', '.join(PAYMENT_SOURCES)}; got {source!r}")])
    item, problems = _check_input(account_ref, amount, paid_at, reference, currency)
    if item is None:
        raise InvalidPayment(problems)
    account = _load_account(session, item.account_ref)
    if account is None:
        raise AccountNotFound(item.account_ref)
    tz = ZoneInfo(account.debtor.timezone)
    instant, problems = _check_against_account(item, currency=account.currency, tz=tz, now=now)
    if problems:
        raise InvalidPayment(problems)

    existing = session.scalars(select(Payment).where(Payment.reference == item.reference)).one_or_none()
    if existing is not None:
        if existing.account_id != account.id:
            other = session.get(Account, existing.account_id)
            raise PaymentConflict(
                item.reference,
                f"reference {item.reference!r} is already recorded for account {other.ref if other else '?'}; "
                "a payment to another account needs its own reference",
            )
        if existing.amount != item.amount:
            raise PaymentConflict(
                item.reference,
                f"reference {item.reference!r} is already recorded with amount {existing.amount}, not {item.amount}",
            )
        return PaymentResult(
            outcome="duplicate",
            payment=existing,
            account=account,
            balance=account.balance,
            paid_total=Decimal(account.paid_total),
            status=account.status,
        )

    payment = Payment(amount=item.amount, paid_at=instant, reference=item.reference, source=source, created_at=now)
    account.payments.append(payment)
    session.flush()  # the id, and the unique reference index says now (not at commit) if a racer won
    status_before = account.status
    effects = _settle(account, payment, tz, now)
    result = PaymentResult(
        outcome="created",
        payment=payment,
        account=account,
        balance=account.balance,
        paid_total=Decimal(account.paid_total),
        status=account.status,
        promises_kept=effects.promises_kept,
        promises_cancelled=effects.promises_cancelled,
        installments_paid=effects.installments_paid,
        plans_completed=effects.plans_completed,
        plans_cancelled=effects.plans_cancelled,
        waived=effects.waived,
    )
    entry = audit(
        session,
        actor=actor,
        action="payment.recorded",
        entity_type="payment",
        entity_id=payment.id,
        details={
            "account": account.ref,
            "amount": str(payment.amount),
            "currency": account.currency,
            "paid_at": instant.isoformat(),
            "reference": payment.reference,
            "source": source,
            "balance": str(result.balance),
            "status": {"before": status_before, "after": account.status},
            "promises_kept": result.promises_kept,
            "promises_cancelled": result.promises_cancelled,
            "installments_paid": [list(i) for i in result.installments_paid],
            "plans_completed": result.plans_completed,
            "plans_cancelled": result.plans_cancelled,
            "waived": str(result.waived),
        },
    )
    entry.at = now
    session.flush()
    return result


def record_payment(
    session_factory: sessionmaker[Session],
    *,
    account_ref: str,
    amount: Decimal | int | str,
    paid_at: datetime | date | str,
    reference: str,
    source: str,
    actor: str,
    now: datetime | None = None,
    currency: str | None = None,
) -> PaymentResult:
    """:func:`apply_payment` in its own transaction, committed.

    Two requests racing with one reference both pass the lookup, and the loser's insert hits the
    unique index; it is retried once and then sees the winner's row, so it answers duplicate or
    conflict exactly like a sequential repeat.
    """
    for attempt in (1, 2):
        try:
            with session_factory() as session, session.begin():
                return apply_payment(
                    session,
                    account_ref=account_ref,
                    amount=amount,
                    paid_at=paid_at,
                    reference=reference,
                    source=source,
                    actor=actor,
                    now=now,
                    currency=currency,
                )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------------------------------
# Many payments (CSV file or row dicts)


@dataclass
class _Row:
    line: int
    item: _Input
    account_id: int
    paid_at: datetime  # resolved to an instant in the debtor's timezone


@dataclass
class _KnownAccount:
    id: int
    ref: str
    currency: str
    timezone: str


def _accounts_by_ref(session: Session, refs: set[str]) -> dict[str, _KnownAccount]:
    found: dict[str, _KnownAccount] = {}
    for chunk in chunks(sorted(refs)):
        rows = session.execute(
            select(Account.id, Account.ref, Account.currency, Debtor.timezone)
            .join(Debtor, Account.debtor_id == Debtor.id)
            .where(Account.ref.in_(chunk))
        )
        for row in rows:
            found[row.ref] = _KnownAccount(row.id, row.ref, row.currency, row.timezone)
    return found


def _recorded_by_reference(session: Session, references: set[str]) -> dict[str, tuple[int, str, Decimal]]:
    """reference -> (account id, account ref, amount) of payments already recorded."""
    found: dict[str, tuple[int, str, Decimal]] = {}
    for chunk in chunks(sorted(references)):
        rows = session.execute(
            select(Payment.reference, Payment.account_id, Account.ref, Payment.amount)
            .join(Account, Payment.account_id == Account.id)
            .where(Payment.reference.in_(chunk))
        )
        for reference, account_id, ref, amount in rows:
            found[reference] = (account_id, ref, amount)
    return found


def _cross_row_errors(records: Sequence[tuple[int, Mapping[str, Any]]]) -> list[Problem]:
    """A reference repeated in the input: an exact repeat is reported after its first line; the same
    reference for different accounts or amounts is reported on every line (which one is right?)."""
    lines_by_reference: dict[str, list[tuple[int, tuple[str, str]]]] = {}
    for line, record in records:
        try:
            reference = _text(record.get("reference"))
            account_ref = _text(record.get("account_ref")) or ""
        except TypeError:
            continue
        if reference is None:
            continue
        raw_amount = record.get("amount")
        try:
            amount = str(parse_amount(raw_amount))
        except ValueError:
            amount = str(raw_amount).strip()
        lines_by_reference.setdefault(reference, []).append((line, (account_ref, amount)))
    errors: list[Problem] = []
    for reference, entries in lines_by_reference.items():
        if len(entries) < 2:
            continue
        first_line, first_key = entries[0]
        if all(key == first_key for _, key in entries):
            errors.extend(
                Problem(line, "reference", f"duplicate of line {first_line} (reference {reference!r})")
                for line, _ in entries[1:]
            )
        else:
            listed = ", ".join(str(line) for line, _ in entries)
            errors.extend(
                Problem(
                    line,
                    "reference",
                    f"reference {reference!r} is on lines {listed} with different accounts or amounts",
                )
                for line, _ in entries
            )
    return errors


def _validate(
    session: Session, records: Sequence[tuple[int, Mapping[str, Any]]], now: datetime
) -> tuple[list[_Row], set[int], list[Problem]]:
    """Rows ready to apply, lines already recorded (duplicates), and every error."""
    errors: list[Problem] = []
    parsed: list[tuple[int, _Input]] = []
    for line, record in records:
        unknown = [Problem(line, str(key), "unknown column") for key in record if key not in _ALL_COLUMNS]
        item, problems = _check_input(
            record.get("account_ref"),
            record.get("amount"),
            record.get("paid_at"),
            record.get("reference"),
            record.get("currency"),
        )
        errors.extend(unknown)
        errors.extend(Problem(line, p.field, p.message) for p in problems)
        if item is not None and not unknown:
            parsed.append((line, item))

    accounts = _accounts_by_ref(session, {item.account_ref for _, item in parsed})
    checked: list[_Row] = []
    for line, item in parsed:
        account = accounts.get(item.account_ref)
        if account is None:
            errors.append(Problem(line, "account_ref", f"no account with ref {item.account_ref!r}"))
            continue
        instant, problems = _check_against_account(
            item, currency=account.currency, tz=ZoneInfo(account.timezone), now=now
        )
        if problems:
            errors.extend(Problem(line, p.field, p.message) for p in problems)
            continue
        checked.append(_Row(line, item, account.id, instant))

    errors.extend(_cross_row_errors(records))
    duplicates: set[int] = set()
    recorded = _recorded_by_reference(session, {row.item.reference for row in checked})
    for row in checked:
        found = recorded.get(row.item.reference)
        if found is None:
            continue
        account_id, ref, amount = found
        if account_id == row.account_id and amount == row.item.amount:
            duplicates.add(row.line)
        elif account_id != row.account_id:
            errors.append(
                Problem(
                    row.line, "reference", f"reference {row.item.reference!r} is already recorded for account {ref}"
                )
            )
        else:
            errors.append(
                Problem(
                    row.line,
                    "reference",
                    f"reference {row.item.reference!r} is already recorded with amount {amount}, not {row.item.amount}",
                )
            )
    order = {name: i for i, name in enumerate(_ALL_COLUMNS)}
    errors.sort(key=lambda e: (e.line or 0, order.get(e.field or "", 99)))
    return checked, duplicates, errors


def _run_import(
    session: Session,
    records: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    file_errors: Sequence[Problem] = (),
    skip_invalid: bool,
    source_name: str,
    actor: str,
    now: datetime | None,
) -> PaymentImportReport:
    now = _aware(now)
    valid, duplicates, errors = _validate(session, records, now)
    errors = sorted([*file_errors, *errors], key=lambda e: e.line or 0)  # stable: fields keep their order
    bad_lines = refuse_or_skip(errors, skip_invalid=skip_invalid)
    duplicates -= bad_lines
    to_apply = sorted(
        (r for r in valid if r.line not in bad_lines and r.line not in duplicates),
        key=lambda r: (r.paid_at, r.line),  # in the order the money came, so promises see it in order
    )
    created = 0
    for row in to_apply:
        try:
            result = apply_payment(
                session,
                account_ref=row.item.account_ref,
                amount=row.item.amount,
                paid_at=row.paid_at,
                reference=row.item.reference,
                currency=row.item.currency,
                source="import",
                actor=actor,
                now=now,
            )
        except (
            InvalidPayment,
            AccountNotFound,
            PaymentConflict,
        ) as exc:  # pragma: no cover - _validate checks the same things first
            raise ImportValidationError([Problem(row.line, "row", str(exc))]) from exc
        created += result.outcome == "created"
    report = PaymentImportReport(
        created=created, duplicates=len(duplicates), skipped=len(bad_lines), errors=list(errors)
    )
    entry = audit(
        session,
        actor=actor,
        action="payments.import",
        entity_type="payment",
        details={
            "source": source_name,
            "rows": len(records),
            "created": report.created,
            "duplicates": report.duplicates,
            "skipped": report.skipped,
            "errors": len(errors),
        },
    )
    entry.at = now
    session.flush()
    return report


def import_payment_rows(
    session: Session,
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_invalid: bool = False,
    source_name: str = "api",
    actor: str = "api",
    line_numbers: Sequence[int] | None = None,
    now: datetime | None = None,
) -> PaymentImportReport:
    """Validate and record payments given as dicts (CSV column names as keys).

    Runs in the caller's transaction without committing; on ImportValidationError nothing has been
    written. ``line_numbers`` label the rows in errors (default: 1-based position in ``rows``).
    """
    numbers = list(line_numbers) if line_numbers is not None else list(range(1, len(rows) + 1))
    if len(numbers) != len(rows):
        raise ValueError("line_numbers must have one entry per row")
    return _run_import(
        session,
        list(zip(numbers, rows, strict=True)),
        skip_invalid=skip_invalid,
        source_name=source_name,
        actor=actor,
        now=now,
    )


def import_payments_csv(
    session_factory: sessionmaker[Session],
    path: Path,
    *,
    skip_invalid: bool = False,
    actor: str = "cli",
    now: datetime | None = None,
) -> PaymentImportReport:
    """Import a payments CSV in one transaction.

    Raises ImportValidationError (nothing written) when the header is wrong, or when any row is bad
    and ``skip_invalid`` is false. References already recorded with the same account and amount are
    counted as duplicates, so importing a file twice records nothing the second time.
    """
    path = Path(path)
    records, structural = read_csv(path, required=PAYMENT_COLUMNS, optional=PAYMENT_OPTIONAL_COLUMNS)
    for attempt in (1, 2):
        try:
            with session_factory() as session, session.begin():
                return _run_import(
                    session,
                    records,
                    file_errors=structural,
                    skip_invalid=skip_invalid,
                    source_name=str(path),
                    actor=actor,
                    now=now,
                )
        except IntegrityError:
            # Someone recorded one of these references meanwhile: validate again, it is now a
            # duplicate or a conflict.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
