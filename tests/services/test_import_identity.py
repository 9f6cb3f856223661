"""Import safety: which debtor a row belongs to, and conflicts instead of silent overwrites.

A debtor is the lender's customer (``customer_ref``); without one, the account already on file, else
the same phone with the same name and birth date. A phone, chat id or account that belongs to
someone else is reported on the row, and nothing is written (or the row is skipped).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import Account, AuditLog, Debtor, Payment, make_engine, make_session_factory, migrate
from bot.errors import Problem
from bot.services.accounts import (
    ImportValidationError,
    account_snapshot,
    import_account_rows,
    import_accounts_csv,
)

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
HEADER = "account_ref,name,phone,language,timezone,currency,amount_due,due_date,birth_date"
CREF_HEADER = HEADER + ",customer_ref"
CHAT_HEADER = HEADER + ",telegram_chat_id,customer_ref"
BUDI = "Budi Santoso,+6281234567801,id,Asia/Jakarta,IDR,1500000,2026-11-25,1988-04-12"
SITI = "Siti Rahayu,+6281234567801,id,Asia/Jakarta,IDR,900000,2026-11-25,1992-09-03"  # Budi's old phone


def write_csv(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    path = tmp_path / f"accounts-{uuid.uuid4().hex[:6]}.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def load(factory: sessionmaker[Session], tmp_path: Path, *lines: str, header: str = HEADER, **kwargs: Any) -> Any:
    return import_accounts_csv(factory, write_csv(tmp_path, *lines, header=header), now=NOW, **kwargs)


def refused(factory: sessionmaker[Session], tmp_path: Path, *lines: str, header: str = HEADER) -> list[Problem]:
    """The errors of an import that must be refused, checking that it changed nothing."""
    before = dump(factory)
    with pytest.raises(ImportValidationError) as info:
        load(factory, tmp_path, *lines, header=header)
    assert dump(factory) == before
    return info.value.errors


def dump(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with factory() as session:
        return [
            *(tuple(r) for r in session.execute(select(Debtor.__table__).order_by(Debtor.id))),
            *(tuple(r) for r in session.execute(select(Account.__table__).order_by(Account.id))),
            *(tuple(r) for r in session.execute(select(AuditLog.__table__).order_by(AuditLog.id))),
        ]


def debtor_of(factory: sessionmaker[Session], ref: str) -> Debtor:
    with factory() as session:
        debtor = session.scalars(select(Account).where(Account.ref == ref)).one().debtor
        assert debtor.accounts is not None  # loaded while the session is open
        session.expunge(debtor)
        return debtor


def debtor_audits(factory: sessionmaker[Session]) -> list[AuditLog]:
    with factory() as session:
        return list(session.scalars(select(AuditLog).where(AuditLog.action == "debtor.updated").order_by(AuditLog.id)))


# ---------------------------------------------------------------------------------------------------
# The reported case: a phone that moved to another person


def test_another_persons_phone_does_not_rename_the_debtor_or_replace_the_birth_date(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    load(factory, tmp_path, f"A-1,{BUDI}")
    errors = refused(
        factory, tmp_path, "A-2,Rudi Hartono,081234567802,id,Asia/Jakarta,IDR,1,2026-11-25,1990-01-01", f"S-1,{SITI}"
    )
    assert errors == [Problem(3, "phone", "+6281234567801 already belongs to another debtor (account A-1)")]
    budi = debtor_of(factory, "A-1")
    assert (budi.name, budi.birth_date) == ("Budi Santoso", date(1988, 4, 12))
    with factory() as session:
        assert session.scalars(select(Account.ref)).all() == ["A-1"]


def test_the_conflicting_row_is_skipped_and_reported_with_skip_invalid(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    load(factory, tmp_path, f"A-1,{BUDI}")
    report = load(
        factory,
        tmp_path,
        "A-2,Rudi Hartono,081234567802,id,Asia/Jakarta,IDR,1,2026-11-25,1990-01-01",
        f"S-1,{SITI}",
        skip_invalid=True,
    )
    assert (report.created, report.updated, report.skipped) == (1, 0, 1)
    assert report.errors == [Problem(3, "phone", "+6281234567801 already belongs to another debtor (account A-1)")]
    budi = debtor_of(factory, "A-1")
    assert (budi.name, budi.birth_date, [a.ref for a in budi.accounts]) == (
        "Budi Santoso",
        date(1988, 4, 12),
        ["A-1"],
    )


def test_without_customer_ref_an_existing_account_keeps_its_name_and_birth_date(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    load(factory, tmp_path, f"A-1,{BUDI}")
    errors = refused(factory, tmp_path, "A-1,Budi Santoso,+6281234567801,id,Asia/Jakarta,IDR,1,2026-11-25,1977-07-07")
    assert errors == [
        Problem(
            2,
            "birth_date",
            "differs from the debtor of account A-1 on file; only a row with the debtor's customer_ref may change it",
        )
    ]
    assert "1977" not in str(errors) and "1988" not in str(errors)  # the secret is never echoed
    errors = refused(factory, tmp_path, "A-1,Siti Rahayu,+6281234567801,id,Asia/Jakarta,IDR,1,2026-11-25,1988-04-12")
    assert [(e.line, e.field) for e in errors] == [(2, "name")]


def test_a_debtor_identified_by_customer_ref_is_not_taken_by_a_row_without_it(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    load(factory, tmp_path, f"A-1,{BUDI},C-1", header=CREF_HEADER)
    errors = refused(factory, tmp_path, f"S-1,{SITI}")
    assert errors == [Problem(2, "phone", "+6281234567801 already belongs to another debtor (customer_ref C-1)")]
    errors = refused(factory, tmp_path, f"S-1,{SITI},C-2", header=CREF_HEADER)
    assert errors == [Problem(2, "phone", "+6281234567801 already belongs to another debtor (customer_ref C-1)")]


def test_a_phone_moves_to_another_customer_once_its_holder_has_another(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    load(factory, tmp_path, f"A-1,{BUDI},C-1", header=CREF_HEADER)
    # Budi's new number comes first; then Siti may have the old one.
    load(
        factory,
        tmp_path,
        "A-1,Budi Santoso,081234567899,id,Asia/Jakarta,IDR,1500000,2026-11-25,1988-04-12,C-1",
        header=CREF_HEADER,
    )
    load(factory, tmp_path, f"S-1,{SITI},C-2", header=CREF_HEADER)
    assert (debtor_of(factory, "A-1").phone, debtor_of(factory, "S-1").phone) == ("+6281234567899", "+6281234567801")
    assert [a.details["fields"] for a in debtor_audits(factory)] == [["phone"]]


def test_a_swap_inside_one_import_is_a_conflict(factory: sessionmaker[Session], tmp_path: Path) -> None:
    load(factory, tmp_path, f"A-1,{BUDI},C-1", header=CREF_HEADER)
    errors = refused(
        factory,
        tmp_path,
        "A-1,Budi Santoso,081234567899,id,Asia/Jakarta,IDR,1500000,2026-11-25,1988-04-12,C-1",
        f"S-1,{SITI},C-2",
        header=CREF_HEADER,
    )
    assert errors == [Problem(3, "phone", "+6281234567801 already belongs to another debtor (customer_ref C-1)")]


# ---------------------------------------------------------------------------------------------------
# customer_ref: the lender's own id


def test_customer_ref_keeps_one_debtor_with_several_accounts(factory: sessionmaker[Session], tmp_path: Path) -> None:
    report = load(
        factory,
        tmp_path,
        f"A-1,{BUDI},C-1",
        "A-2,Budi Santoso,+6281234567801,en,Asia/Makassar,IDR,250000,2026-12-01,1988-04-12,C-1",
        "A-3,budi santoso,081234567801,en,Asia/Makassar,IDR,100,2026-12-05,1988-04-12,",  # no customer_ref
        header=CREF_HEADER,
    )
    assert (report.created, report.skipped) == (3, 0)
    with factory() as session:
        debtor = session.scalars(select(Debtor)).one()
        assert (debtor.customer_ref, debtor.name, debtor.timezone) == ("C-1", "Budi Santoso", "Asia/Makassar")
        assert [a.ref for a in debtor.accounts] == ["A-1", "A-2", "A-3"]
    # A later file adds a fourth account by customer_ref alone, from the debtor's new phone.
    load(
        factory,
        tmp_path,
        "A-4,Budi Santoso,081234567899,id,Asia/Jakarta,IDR,5,2026-12-09,1988-04-12,C-1",
        header=CREF_HEADER,
    )
    budi = debtor_of(factory, "A-1")
    assert (budi.phone, [a.ref for a in budi.accounts]) == ("+6281234567899", ["A-1", "A-2", "A-3", "A-4"])


def test_customer_ref_may_change_name_and_birth_date_and_it_is_audited(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    load(factory, tmp_path, f"A-1,{BUDI},C-1", f"A-2,{BUDI.replace('1500000', '7')},C-1", header=CREF_HEADER)
    report = load(
        factory,
        tmp_path,
        "A-1,Budi Santosa,+6281234567801,id,Asia/Jakarta,IDR,1500000,2026-11-25,1988-05-12,C-1",
        header=CREF_HEADER,
    )
    assert (report.created, report.updated) == (0, 1)
    budi = debtor_of(factory, "A-2")  # every account of the debtor follows
    assert (budi.name, budi.birth_date) == ("Budi Santosa", date(1988, 5, 12))
    (audit,) = debtor_audits(factory)
    assert (audit.actor, audit.entity_type, audit.entity_id) == ("cli", "debtor", str(budi.id))
    assert audit.details is not None
    assert audit.details["fields"] == ["name", "birth_date"]
    assert (audit.details["customer_ref"], audit.details["account_ref"], audit.details["line"]) == ("C-1", "A-1", 2)
    text = json.dumps(audit.details)
    assert "1988" not in text and "05-12" not in text  # never the birth date's value
    # The same file again changes nothing and audits nothing.
    load(
        factory,
        tmp_path,
        "A-1,Budi Santosa,+6281234567801,id,Asia/Jakarta,IDR,1500000,2026-11-25,1988-05-12,C-1",
        header=CREF_HEADER,
    )
    assert len(debtor_audits(factory)) == 1


def test_a_debtor_without_customer_ref_is_given_one_when_the_row_is_the_same_person(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    load(factory, tmp_path, f"A-1,{BUDI}")
    load(factory, tmp_path, f"A-2,{BUDI},C-1", header=CREF_HEADER)
    budi = debtor_of(factory, "A-1")
    assert (budi.customer_ref, [a.ref for a in budi.accounts]) == ("C-1", ["A-1", "A-2"])
    assert [(a.details["fields"], a.details["account_ref"]) for a in debtor_audits(factory)] == [
        (["customer_ref"], "A-2")
    ]


def test_an_account_does_not_move_to_another_customer(factory: sessionmaker[Session], tmp_path: Path) -> None:
    load(factory, tmp_path, f"A-1,{BUDI},C-1", header=CREF_HEADER)
    errors = refused(
        factory,
        tmp_path,
        "A-1,Siti Rahayu,081234567802,id,Asia/Jakarta,IDR,1,2026-11-25,1992-09-03,C-2",
        header=CREF_HEADER,
    )
    assert errors == [
        Problem(
            2,
            "account_ref",
            "A-1 belongs to another debtor (customer_ref C-1); an account does not move to another debtor",
        )
    ]


def test_customer_ref_is_validated(factory: sessionmaker[Session], tmp_path: Path) -> None:
    errors = refused(factory, tmp_path, f"A-1,{BUDI},{'C' * 65}", header=CREF_HEADER)
    assert errors == [Problem(2, "customer_ref", "is longer than 64 characters")]


# ---------------------------------------------------------------------------------------------------
# Several accounts without customer_ref, and conflicts inside one file


def test_same_phone_name_and_birth_date_is_one_debtor_across_imports(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    load(factory, tmp_path, f"A-1,{BUDI}")
    load(factory, tmp_path, "A-2,BUDI  SANTOSO,081234567801,id,Asia/Jakarta,IDR,2,2026-12-25,1988-04-12")
    budi = debtor_of(factory, "A-2")
    assert (budi.name, [a.ref for a in budi.accounts]) == ("Budi Santoso", ["A-1", "A-2"])
    assert debtor_audits(factory) == []


def test_two_rows_claiming_one_phone_for_different_people_conflict_on_the_later_row(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    errors = refused(factory, tmp_path, f"A-1,{BUDI}", f"S-1,{SITI}")
    assert errors == [Problem(3, "phone", "+6281234567801 already belongs to another debtor (account A-1 on line 2)")]
    errors = refused(factory, tmp_path, f"A-1,{BUDI},C-1", f"A-2,{BUDI},C-2", header=CREF_HEADER)
    assert errors == [
        Problem(3, "phone", "+6281234567801 already belongs to another debtor (customer_ref C-1 on line 2)")
    ]
    errors = refused(factory, tmp_path, f"A-1,{BUDI},C-1", f"S-1,{SITI},C-1", header=CREF_HEADER)
    assert errors == [Problem(3, "customer_ref", "C-1 is on line 2 with a different name or birth_date")]
    errors = refused(
        factory,
        tmp_path,
        f"A-1,{BUDI},C-1",
        "A-2,Budi Santoso,081234567899,id,Asia/Jakarta,IDR,1,2026-11-25,1988-04-12,C-1",
        header=CREF_HEADER,
    )
    assert errors == [Problem(3, "phone", "+6281234567899 differs from +6281234567801 on line 2 (the same debtor)")]
    report = load(factory, tmp_path, f"A-1,{BUDI}", f"S-1,{SITI}", skip_invalid=True)
    assert (report.created, report.skipped) == (1, 1)
    assert debtor_of(factory, "A-1").name == "Budi Santoso"


def test_a_chat_id_claimed_for_two_people_conflicts(factory: sessionmaker[Session], tmp_path: Path) -> None:
    errors = refused(
        factory,
        tmp_path,
        f"A-1,{BUDI},555,",
        "S-1,Siti Rahayu,081234567802,id,Asia/Jakarta,IDR,1,2026-11-25,1992-09-03,555,",
        header=CHAT_HEADER,
    )
    assert errors == [Problem(3, "telegram_chat_id", "555 already belongs to another debtor (account A-1 on line 2)")]


def test_api_rows_follow_the_same_rules(factory: sessionmaker[Session]) -> None:
    def row(ref: str, name: str, birth: str, **extra: str) -> dict[str, str]:
        return {
            "account_ref": ref,
            "name": name,
            "phone": "081234567801",
            "language": "id",
            "timezone": "Asia/Jakarta",
            "currency": "IDR",
            "amount_due": "100",
            "due_date": "2026-11-25",
            "birth_date": birth,
        } | extra

    with factory.begin() as session:
        import_account_rows(session, [row("A-1", "Budi", "1988-04-12", customer_ref="C-1")], now=NOW)
    with factory() as session, pytest.raises(ImportValidationError) as info:
        import_account_rows(session, [row("S-1", "Siti", "1992-09-03")], now=NOW)
    assert info.value.errors == [
        Problem(1, "phone", "+6281234567801 already belongs to another debtor (customer_ref C-1)")
    ]


# ---------------------------------------------------------------------------------------------------
# The snapshot: customer_ref and the debtor's other accounts


def test_snapshot_lists_the_debtors_other_accounts(factory: sessionmaker[Session], tmp_path: Path) -> None:
    load(
        factory,
        tmp_path,
        f"A-1,{BUDI},C-1",
        "A-2,Budi Santoso,+6281234567801,id,Asia/Jakarta,IDR,250000,2026-11-01,1988-04-12,C-1",
        "A-3,Budi Santoso,+6281234567801,id,Asia/Jakarta,IDR,100,2026-12-01,1988-04-12,C-1",
        header=CREF_HEADER,
    )
    with factory.begin() as session:
        a2 = session.scalars(select(Account).where(Account.ref == "A-2")).one()
        session.add(Payment(account=a2, amount=Decimal("50000.00"), paid_at=NOW, source="import", reference="T-1"))
    with factory() as session:
        snap = account_snapshot(session, "A-1", now=NOW)
    assert snap["debtor"]["customer_ref"] == "C-1"
    assert snap["debtor"]["accounts"] == [
        {"ref": "A-2", "balance": "200000.00", "status": "active", "days_past_due": 22},
        {"ref": "A-3", "balance": "100.00", "status": "active", "days_past_due": 0},
    ]
    assert "birth" not in json.dumps(snap) and "1988" not in json.dumps(snap)


# ---------------------------------------------------------------------------------------------------
# PostgreSQL: the look-ups there go through array parameters


@pytest.fixture
def pg_factory() -> Iterator[sessionmaker[Session]]:
    from tests.db.conftest import POSTGRES_URL

    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=2).close()
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    schema = f"tagih_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    migrate(url)
    engine = make_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_the_rules_on_postgres(pg_factory: sessionmaker[Session], tmp_path: Path) -> None:
    load(
        pg_factory, tmp_path, f"A-1,{BUDI}", "D-1,Dewi Lestari,081234567807,id,Asia/Jakarta,IDR,1,2026-11-25,1999-07-08"
    )
    # Adopted by customer_ref through the account (its debtor is found by id), then renamed.
    load(pg_factory, tmp_path, f"A-1,{BUDI},C-1", header=CREF_HEADER)
    load(
        pg_factory,
        tmp_path,
        "A-1,Budi Santosa,081234567801,id,Asia/Jakarta,IDR,1,2026-11-25,1988-04-12,C-1",
        header=CREF_HEADER,
    )
    errors = refused(
        pg_factory, tmp_path, f"S-1,{SITI}", "D-2,Dewi Lestari,081234567807,id,Asia/Jakarta,IDR,1,2026-11-25,1999-07-09"
    )
    assert errors == [
        Problem(2, "phone", "+6281234567801 already belongs to another debtor (customer_ref C-1)"),
        Problem(3, "phone", "+6281234567807 already belongs to another debtor (account D-1)"),
    ]
    assert [a.details["fields"] for a in debtor_audits(pg_factory)] == [["customer_ref"], ["name"]]
