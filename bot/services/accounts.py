"""Accounts: bulk import from CSV (or row dicts from an API) and the JSON snapshot of one account.

The import is all-or-nothing: every row is validated before anything is written, then all rows are
upserted in one transaction with chunked Core statements (100,000 rows must import in seconds, so
there is no ORM object per row).

Which debtor a row belongs to (customer_ref, else the account on file, else phone with name and birth
date) and which rows conflict is decided in :mod:`bot.services.debtor_matching`; a conflict is reported
like a validation error, so nobody's name or birth date is changed by someone else's row.

Demo data (``bot/demo/accounts.csv``, loaded by :func:`load_demo_if_empty`); the birth date is what a
debtor gives to prove their identity:

=========  =========  ===============  ==============  ======================  ==========
ref        customer   debtor           phone           timezone                birth date
=========  =========  ===============  ==============  ======================  ==========
DEMO-1001  CUST-0001  Budi Santoso     +6281234567801  Asia/Jakarta (WIB)      1988-04-12
DEMO-1002  CUST-0002  Siti Rahayu      +6281234567802  Asia/Jakarta (WIB)      1992-09-03
DEMO-1003  CUST-0003  I Made Wirawan   +6281234567803  Asia/Makassar (WITA)    1985-01-27
DEMO-1004  CUST-0004  Yohanes Wenda    +6281234567804  Asia/Jayapura (WIT)     1990-12-19
DEMO-1005  CUST-0005  Sarah Thompson   +6281234567805  Asia/Jakarta (en)       1983-06-30
DEMO-1006  CUST-0006  Andi Pratama     +6281234567806  Asia/Makassar (WITA)    1995-02-14
DEMO-1007  CUST-0007  Dewi Lestari     +6281234567807  Asia/Jakarta (WIB)      1999-07-08
DEMO-1008  CUST-0001  Budi Santoso     +6281234567801  Asia/Jakarta (WIB)      1988-04-12
=========  =========  ===============  ==============  ======================  ==========
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

from babel.numbers import list_currencies
from sqlalchemy import Table, any_, bindparam, exists, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot.db.models import (
    SEGMENTS,
    Account,
    AuditLog,
    ContactPreference,
    Debtor,
    InstallmentPlan,
    LinkRequest,
    Proposal,
    utcnow,
)
from bot.domain.phones import e164
from bot.errors import NotFoundError, Problem
from bot.imports import CHUNK, ImportValidationError, chunks, problem_dicts, read_csv, refuse_or_skip
from bot.services.debtor_matching import (
    AUDITED_FIELDS,
    DEBTOR_FIELDS,
    Conflict,
    Match,
    OnFile,
    describe,
    describe_needs_account,
    match_rows,
)
from bot.services.identity_checks import account_security

__all__ = [
    "DEMO_CSV",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "AccountNotFound",
    "ImportReport",
    "ImportValidationError",
    "account_snapshot",
    "import_account_rows",
    "import_accounts_csv",
    "load_demo_if_empty",
]

REQUIRED_COLUMNS = (
    "account_ref",
    "name",
    "phone",
    "language",
    "timezone",
    "currency",
    "amount_due",
    "due_date",
    "birth_date",
)
OPTIONAL_COLUMNS = ("telegram_chat_id", "email", "segment", "customer_ref")
ALL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
DEMO_CSV = Path(__file__).resolve().parent.parent / "demo" / "accounts.csv"

_AMOUNT_RE = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CHAT_ID_RE = re.compile(r"^-?\d{1,20}$")
_MAX_LEN = {"account_ref": 64, "name": 200, "email": 254, "customer_ref": 64}


# ---------------------------------------------------------------------------------------------------
# Errors and results


@dataclass
class ImportReport:
    created: int
    updated: int
    skipped: int
    errors: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "errors": problem_dicts(self.errors),
        }


class AccountNotFound(NotFoundError):
    code = "unknown_account"

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"no account with ref {ref!r}")


# ---------------------------------------------------------------------------------------------------
# Row validation (pure: no database)


@dataclass
class _Row:
    line: int
    ref: str
    name: str
    phone: str
    language: str
    timezone: str
    currency: str
    amount_due: Decimal
    due_date: date
    birth_date: date
    telegram_chat_id: str | None
    email: str | None
    segment: str | None
    customer_ref: str | None = None


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def _text(value: Any) -> str | None:
    """Cell value as stripped text; ``None`` for empty. API rows may carry ints."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError
    value = value.strip()
    return value or None


def _parse_phone(raw: str) -> str:
    normalised = e164(raw)  # cached: phonenumbers dominates import time
    if normalised is None:
        raise ValueError
    return normalised


def _parse_amount(raw: str) -> Decimal:
    if not _AMOUNT_RE.match(raw):
        raise ValueError(f"not a decimal amount: {raw!r} (write 1500000 or 1500000.00)")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the regex already rules this out
        raise ValueError(f"not a decimal amount: {raw!r}") from exc
    if value < 0:
        raise ValueError(f"must not be negative: {raw}")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"has more than 2 decimal places: {raw}")
    if value >= Decimal("10") ** 15:
        raise ValueError(f"is too large: {raw}")
    return value.quantize(Decimal("0.01"))


def _parse_date(raw: str) -> date:
    if not _DATE_RE.match(raw):
        raise ValueError(f"not a date in YYYY-MM-DD form: {raw!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValueError(f"not a valid date: {raw!r}") from exc


def _validate_row(line: int, row: Mapping[str, Any], today: date) -> tuple[_Row | None, list[Problem]]:
    errors: list[Problem] = []
    values: dict[str, str | None] = {}

    def err(name: str, message: str) -> None:
        errors.append(Problem(line, name, message))

    for key in row:
        if key not in ALL_COLUMNS:
            err(str(key), "unknown column")
    for name in ALL_COLUMNS:
        try:
            values[name] = _text(row.get(name))
        except TypeError:
            err(name, "must be text")
            values[name] = None
            continue
        if values[name] is None and name in REQUIRED_COLUMNS:
            err(name, "is required")
        limit = _MAX_LEN.get(name)
        text = values[name]
        if limit and text is not None and len(text) > limit:
            err(name, f"is longer than {limit} characters")
            values[name] = None

    def get(name: str) -> str | None:
        return values[name]

    phone = language = tz = currency = segment = chat_id = email = None
    amount: Decimal | None = None
    due: date | None = None
    birth: date | None = None

    if (raw := get("phone")) is not None:
        try:
            phone = _parse_phone(raw)
        except ValueError:
            err("phone", f"not a valid phone number: {raw!r} (use E.164 like +6281234567890 or 08...)")
    if (raw := get("language")) is not None:
        if raw.lower() in ("id", "en"):
            language = raw.lower()
        else:
            err("language", f"must be 'id' or 'en', got {raw!r}")
    if (raw := get("timezone")) is not None:
        if raw in _timezones():
            tz = raw
        else:
            err("timezone", f"unknown IANA timezone {raw!r} (e.g. Asia/Jakarta, Asia/Makassar)")
    if (raw := get("currency")) is not None:
        if len(raw) == 3 and raw.upper() in _currencies():
            currency = raw.upper()
        else:
            err("currency", f"unknown ISO 4217 currency code {raw!r}")
    if (raw := get("amount_due")) is not None:
        try:
            amount = _parse_amount(raw)
        except ValueError as exc:
            err("amount_due", str(exc))
    if (raw := get("due_date")) is not None:
        try:
            due = _parse_date(raw)
        except ValueError as exc:
            err("due_date", str(exc))
    if (raw := get("birth_date")) is not None:
        try:
            birth = _parse_date(raw)
        except ValueError as exc:
            err("birth_date", str(exc))
        else:
            if birth >= today:
                err("birth_date", f"must be in the past: {raw}")
                birth = None
    if (raw := get("telegram_chat_id")) is not None:
        if _CHAT_ID_RE.match(raw):
            chat_id = raw
        else:
            err("telegram_chat_id", f"must be a numeric Telegram chat id, got {raw!r}")
    if (raw := get("email")) is not None:
        if _EMAIL_RE.match(raw):
            email = raw
        else:
            err("email", f"not a valid email address: {raw!r}")
    if (raw := get("segment")) is not None:
        if raw in SEGMENTS:
            segment = raw
        else:
            err("segment", f"must be one of {', '.join(SEGMENTS)}; got {raw!r}")

    if errors:
        return None, errors
    assert phone and language and tz and currency and amount is not None and due and birth
    return (
        _Row(
            line=line,
            ref=values["account_ref"] or "",
            name=values["name"] or "",
            phone=phone,
            language=language,
            timezone=tz,
            currency=currency,
            amount_due=amount,
            due_date=due,
            birth_date=birth,
            telegram_chat_id=chat_id,
            email=email,
            segment=segment,
            customer_ref=values["customer_ref"],
        ),
        [],
    )


def _duplicate_refs(records: Sequence[tuple[int, Mapping[str, Any]]]) -> list[Problem]:
    """An account_ref twice in one import: neither row says which is right."""
    errors: list[Problem] = []
    lines_by_ref: dict[str, list[int]] = {}
    for line, row in records:
        try:
            ref = _text(row.get("account_ref"))
        except TypeError:
            continue
        if ref is not None:
            lines_by_ref.setdefault(ref, []).append(line)
    for ref, lines in lines_by_ref.items():
        if len(lines) > 1:
            listed = ", ".join(str(n) for n in lines)
            errors.extend(Problem(n, "account_ref", f"duplicate account_ref {ref!r} on lines {listed}") for n in lines)
    return errors


# ---------------------------------------------------------------------------------------------------
# Database side


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _load_by(session: Session, table: Table, key: str, values: Iterable[Any]) -> dict[Any, Any]:
    column = table.c[key]
    found: dict[Any, Any] = {}
    postgres = session.get_bind().dialect.name == "postgresql"
    for chunk in chunks(sorted(set(values)), 5000 if postgres else CHUNK):
        if postgres:
            # One array parameter that PostgreSQL hashes (with custom plans, see _run_import);
            # "IN ($1..$500)" would compare each row 500 times.
            condition = column == any_(bindparam("keys", list(chunk), type_=ARRAY(column.type)))
        else:
            condition = column.in_(chunk)
        for row in session.execute(select(table).where(condition)):
            found[getattr(row, key)] = row
    return found


def _on_file(session: Session, rows: Sequence[_Row]) -> tuple[OnFile, dict[str, Any]]:
    """The stored debtors and accounts the rows could refer to (and the accounts by ref)."""
    debtors = _table(Debtor)
    found: dict[int, Any] = {}
    keys = (
        ("customer_ref", {r.customer_ref for r in rows if r.customer_ref}),
        ("phone", {r.phone for r in rows}),
        ("telegram_chat_id", {r.telegram_chat_id for r in rows if r.telegram_chat_id}),
    )
    for key, values in keys:
        if values:
            found.update((row.id, row) for row in _load_by(session, debtors, key, values).values())
    accounts = _load_by(session, _table(Account), "ref", [r.ref for r in rows])
    missing = {a.debtor_id for a in accounts.values()} - found.keys()
    if missing:
        found.update(_load_by(session, debtors, "id", missing))
    on_file = OnFile(
        debtors={i: {k: getattr(row, k) for k in DEBTOR_FIELDS} for i, row in found.items()},
        account_owners={ref: a.debtor_id for ref, a in accounts.items()},
    )
    return on_file, accounts


def _match(session: Session, rows: Sequence[_Row], on_file: OnFile, *, bad: set[int]) -> tuple[Match, list[Problem]]:
    """Match until the rows matched are exactly the rows without errors (``bad``: lines in error).

    The first pass sees every valid row, so a row claiming what another bad row claims is reported
    too; later passes leave out the bad rows, and the last one is what gets written.
    """
    conflicts: list[Conflict] = []
    while True:
        match = match_rows(rows, on_file)
        conflicts += match.conflicts
        bad = bad | {c.line for c in match.conflicts}
        clean = [r for r in rows if r.line not in bad]
        if len(clean) == len(rows):
            break
        rows = clean
    refs = _an_account_of(session, describe_needs_account(conflicts))
    errors = [Problem(c.line, c.field, c.message + (describe(c.other, refs) if c.other else "")) for c in conflicts]
    return match, errors


def _an_account_of(session: Session, debtor_ids: set[int]) -> dict[int, str]:
    """One account ref per debtor, to name a debtor without a customer_ref in a conflict."""
    refs: dict[int, str] = {}
    for chunk in chunks(sorted(debtor_ids)):
        query = select(Account.debtor_id, func.min(Account.ref)).where(Account.debtor_id.in_(chunk))
        refs.update((debtor_id, ref) for debtor_id, ref in session.execute(query.group_by(Account.debtor_id)))
    return refs


def _bulk_update(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Executemany UPDATE by primary key; rows are grouped by which columns change."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        keys = tuple(sorted(k for k in row if k != "id"))
        groups.setdefault(keys, []).append({f"b_{k}": v for k, v in row.items()})
    for keys, params in groups.items():
        stmt = update(table).where(table.c.id == bindparam("b_id")).values({k: bindparam(f"b_{k}") for k in keys})
        for chunk in chunks(params, 5000):
            session.connection().execute(stmt, list(chunk))


def _upsert(
    session: Session,
    rows: Sequence[_Row],
    match: Match,
    current_accounts: Mapping[str, Any],
    *,
    now: datetime,
    actor: str,
    source_name: str,
) -> dict[str, int]:
    debtors = _table(Debtor)
    accounts = _table(Account)

    new_debtors = [{**d.values(), "created_at": now, "updated_at": now} for d in match.new]
    for chunk in chunks(new_debtors, 5000):
        session.connection().execute(insert(debtors), list(chunk))
    if match.new:
        created = _load_by(session, debtors, "phone", [d.phone for d in match.new])
        for record in match.new:
            record.id = created[record.phone].id
    _bulk_update(session, debtors, [{"id": d.id, **d.changes(), "updated_at": now} for d in match.changed])
    # Who changed whose identity: field names only, never a birth date.
    audits = [
        {
            "at": now,
            "actor": actor,
            "action": "debtor.updated",
            "entity_type": "debtor",
            "entity_id": str(d.id),
            "conversation_id": None,
            "details": {
                "fields": fields,
                "customer_ref": d.customer_ref,
                "account_ref": d.first_ref,
                "line": d.first_line,
                "source": source_name,
            },
        }
        for d in match.changed
        if (fields := [f for f in AUDITED_FIELDS if f in d.changes()])
    ]
    for chunk in chunks(audits, 5000):
        session.connection().execute(insert(_table(AuditLog)), list(chunk))

    new_accounts, changed_accounts = [], []
    for row in rows:
        values = {
            "debtor_id": match.assignment[row.line].id,
            "currency": row.currency,
            "amount_due": row.amount_due,
            "due_date": row.due_date,
        }
        if row.segment:
            values["segment"] = row.segment
        current = current_accounts.get(row.ref)
        if current is None:
            new_accounts.append(
                {
                    "ref": row.ref,
                    "segment": None,
                    "fees": Decimal("0.00"),
                    "status": "active",
                    **values,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        diff = {k: v for k, v in values.items() if getattr(current, k) != v}
        if diff:
            changed_accounts.append({"id": current.id, **diff, "updated_at": now})
    for chunk in chunks(new_accounts, 5000):
        session.connection().execute(insert(accounts), list(chunk))
    _bulk_update(session, accounts, changed_accounts)

    return {
        "created": len(new_accounts),
        "updated": len(rows) - len(new_accounts),
        "changed": len(changed_accounts),
        "debtors_created": len(match.new),
        "debtors_updated": len(match.changed),
    }


def _run_import(
    session: Session,
    records: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    file_errors: Sequence[Problem] = (),  # rows the CSV reader could not split into fields
    skip_invalid: bool,
    source_name: str,
    actor: str,
    now: datetime | None,
) -> ImportReport:
    now = now or utcnow()
    today = now.astimezone(timezone.utc).date()
    if session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a statement after 5 runs and PostgreSQL then switches to a generic plan,
        # in which "= ANY($1)" is no longer hashed: the 6th lookup chunk got 100x slower.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    errors: list[Problem] = list(file_errors)
    valid: list[_Row] = []
    for line, record in records:
        parsed, row_errors = _validate_row(line, record, today)
        errors.extend(row_errors)
        if parsed is not None:
            valid.append(parsed)
    errors.extend(_duplicate_refs(records))
    on_file, current_accounts = _on_file(session, valid)
    match, conflicts = _match(session, valid, on_file, bad={e.line for e in errors if e.line is not None})
    errors.extend(conflicts)
    bad_lines = {e.line for e in errors}
    valid = [r for r in valid if r.line not in bad_lines]
    errors.sort(key=lambda e: (e.line, ALL_COLUMNS.index(e.field) if e.field in ALL_COLUMNS else 99))

    refuse_or_skip(errors, skip_invalid=skip_invalid)

    counts = (
        _upsert(session, valid, match, current_accounts, now=now, actor=actor, source_name=source_name)
        if valid
        else {"created": 0, "updated": 0}
    )
    # Every bad line is a skipped row (file-level problems were raised before rows were read).
    report = ImportReport(created=counts["created"], updated=counts["updated"], skipped=len(bad_lines), errors=errors)
    session.add(
        AuditLog(
            at=now,
            actor=actor,
            action="accounts.import",
            entity_type="account",
            details={
                "source": source_name,
                "rows": len(records),
                "created": report.created,
                "updated": report.updated,
                "skipped": report.skipped,
                "errors": len(errors),
                **{k: v for k, v in counts.items() if k.startswith("debtors_") or k == "changed"},
            },
        )
    )
    session.flush()
    return report


def import_account_rows(
    session: Session,
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_invalid: bool = False,
    source_name: str = "api",
    actor: str = "api",
    line_numbers: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Validate and upsert rows given as dicts (CSV column names as keys).

    Runs inside the caller's transaction and does not commit; on ImportValidationError nothing has
    been written. ``line_numbers`` label the rows in errors (default: 1-based position in ``rows``).
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


def import_accounts_csv(
    session_factory: sessionmaker[Session],
    path: Path,
    *,
    skip_invalid: bool = False,
    actor: str = "cli",
    now: datetime | None = None,
) -> ImportReport:
    """Import an accounts CSV in one transaction (see DESIGN.md for the columns).

    Raises ImportValidationError (nothing written) when the header is wrong, or when any row is bad
    and ``skip_invalid`` is false. With ``skip_invalid`` the good rows are imported and the bad ones
    are reported in ``ImportReport.errors``.
    """
    path = Path(path)
    records, structural = read_csv(path, required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS)
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


def load_demo_if_empty(session_factory: sessionmaker[Session]) -> int:
    """Import the demo accounts when the database has no accounts; returns how many were created."""
    with session_factory() as session:
        if session.scalar(select(exists().where(Account.id.is_not(None)))):
            return 0
    return import_accounts_csv(session_factory, DEMO_CSV, actor="system").created


# ---------------------------------------------------------------------------------------------------
# Snapshot


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def account_snapshot(session: Session, ref: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything known about one account, JSON-ready (Decimals as strings, ISO dates).

    The birth date is deliberately absent: it is the identity-check secret.
    """
    account = session.scalars(
        select(Account)
        .where(Account.ref == ref)
        .options(
            selectinload(Account.debtor).selectinload(Debtor.contact_preferences),
            selectinload(Account.debtor).selectinload(Debtor.accounts).selectinload(Account.payments),
            selectinload(Account.payments),
            selectinload(Account.claims),
            selectinload(Account.promises),
            selectinload(Account.plans).selectinload(InstallmentPlan.installments),
            selectinload(Account.handoffs),
        )
    ).one_or_none()
    if account is None:
        raise AccountNotFound(ref)
    now = now or utcnow()
    debtor = account.debtor

    addresses = {a for a in (debtor.phone, debtor.telegram_chat_id) if a}
    if debtor.phone:
        addresses.add(debtor.phone.lstrip("+"))  # WhatsApp ids carry no "+"
    preferences = {p.id: p for p in debtor.contact_preferences}
    if addresses:
        for pref in session.scalars(
            select(ContactPreference).where(
                ContactPreference.debtor_id.is_(None), ContactPreference.address.in_(addresses)
            )
        ):
            preferences[pref.id] = pref

    return {
        "ref": account.ref,
        "currency": account.currency,
        "amount_due": _money(account.amount_due),
        "fees": _money(account.fees),
        "paid_total": _money(Decimal(account.paid_total)),
        "waived": _money(account.waived or Decimal("0.00")),
        "balance": _money(account.balance),
        "due_date": _iso(account.due_date),
        "status": account.status,
        "days_past_due": account.days_past_due(now),
        "dpd_bucket": account.dpd_bucket(now),
        "segment": account.segment,
        "virtual_account": account.virtual_account,
        "as_of": _iso(now.astimezone(timezone.utc)),
        "debtor": {
            "customer_ref": debtor.customer_ref,
            "name": debtor.name,
            "phone": debtor.phone,
            "telegram_chat_id": debtor.telegram_chat_id,
            "email": debtor.email,
            "language": debtor.language,
            "timezone": debtor.timezone,
            # the debtor's other accounts: an agent talks to a person, not to one account
            "accounts": [
                {
                    "ref": other.ref,
                    "balance": _money(other.balance),
                    "status": other.status,
                    "days_past_due": other.days_past_due(now),
                }
                for other in debtor.accounts
                if other.id != account.id
            ],
        },
        "promises": [
            {
                "id": p.id,
                "kind": p.kind,
                "amount": _money(p.amount),
                "promised_date": _iso(p.promised_date),
                "status": p.status,
                "conversation_id": p.conversation_id,
                "created_at": _iso(p.created_at),
            }
            for p in account.promises
        ],
        "plans": [
            {
                "id": plan.id,
                "total": _money(plan.total),
                "installment_count": plan.installment_count,
                "status": plan.status,
                "conversation_id": plan.conversation_id,
                "created_at": _iso(plan.created_at),
                "installments": [
                    {
                        "seq": i.seq,
                        "due_date": _iso(i.due_date),
                        "amount": _money(i.amount),
                        "status": i.status,
                    }
                    for i in plan.installments
                ],
            }
            for plan in account.plans
        ],
        "payments": [
            {
                "id": p.id,
                "amount": _money(p.amount),
                "paid_at": _iso(p.paid_at),
                "reference": p.reference,
                "source": p.source,
            }
            for p in account.payments
        ],
        "claims": [
            {
                "id": c.id,
                "amount": _money(c.amount),
                "paid_on": _iso(c.paid_on),
                "reference": c.reference,
                "status": c.status,
                "conversation_id": c.conversation_id,
                "created_at": _iso(c.created_at),
            }
            for c in account.claims
        ],
        "handoffs": [
            {
                "id": h.id,
                "reason": h.reason,
                "note": h.note,
                "status": h.status,
                "assigned_to": h.assigned_to,
                "conversation_id": h.conversation_id,
                "created_at": _iso(h.created_at),
                "resolved_at": _iso(h.resolved_at),
            }
            for h in account.handoffs
        ],
        # offers beyond the bot's limits, waiting for (or answered by) an agent
        "proposals": [
            {
                "id": p.id,
                "kind": p.kind,
                "amount": _money(p.amount),
                "installment_count": p.installment_count,
                "first_date": _iso(p.first_date),
                "reason": p.reason,
                "status": p.status,
                "handoff_id": p.handoff_id,
                "created_at": _iso(p.created_at),
                "decided_at": _iso(p.decided_at),
                "decided_by": p.decided_by,
            }
            for p in session.scalars(select(Proposal).where(Proposal.account_id == account.id).order_by(Proposal.id))
        ],
        "opt_outs": [
            {
                "id": p.id,
                "channel": p.channel,
                "address": p.address,
                "kind": p.kind,
                "source": p.source,
                "created_at": _iso(p.created_at),
                "revoked_at": _iso(p.revoked_at),
            }
            for p in sorted(preferences.values(), key=lambda p: p.id)
        ],
        # identity checks against this account: failures, a lock, channel links waiting for a decision
        "identity": {
            **account_security(session, account, now=now),
            "pending_link_requests": [
                {"id": r.id, "channel": r.channel, "how": r.how, "created_at": _iso(r.created_at)}
                for r in session.scalars(
                    select(LinkRequest).where(LinkRequest.debtor_id == debtor.id, LinkRequest.status == "pending")
                )
            ],
        },
    }
