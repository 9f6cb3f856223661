from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import (
    Account,
    AuditLog,
    ContactPreference,
    Conversation,
    Debtor,
    Handoff,
    Installment,
    InstallmentPlan,
    Payment,
    PaymentClaim,
    Promise,
    make_engine,
    make_session_factory,
    migrate,
)
from bot.errors import Problem
from bot.services.accounts import (
    DEMO_CSV,
    AccountNotFound,
    ImportValidationError,
    account_snapshot,
    import_account_rows,
    import_accounts_csv,
    load_demo_if_empty,
)

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
HEADER = "account_ref,name,phone,language,timezone,currency,amount_due,due_date,birth_date"
GOOD = [
    "A-1,Budi Santoso,+6281234567801,id,Asia/Jakarta,IDR,1500000,2026-11-25,1988-04-12",
    "A-2,Siti Rahayu,081234567802,id,Asia/Jayapura,IDR,2750000.00,2026-11-10,1992-09-03",
    "A-3,Budi Santoso,0812-3456-7801,en,Asia/Makassar,idr,99.5,2026-12-01,1988-04-12",
]


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'tagih.db'}"
    migrate(url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()


def write_csv(tmp_path: Path, *lines: str, header: str = HEADER, name: str = "accounts.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def dump(factory: sessionmaker[Session]) -> list[tuple]:
    with factory() as session:
        debtors = session.execute(select(Debtor.__table__).order_by(Debtor.id)).all()
        accounts = session.execute(select(Account.__table__).order_by(Account.id)).all()
    return [tuple(r) for r in debtors] + [tuple(r) for r in accounts]


def test_import_happy_path(factory: sessionmaker[Session], tmp_path: Path) -> None:
    report = import_accounts_csv(factory, write_csv(tmp_path, *GOOD), now=NOW)
    assert (report.created, report.updated, report.skipped, report.errors) == (3, 0, 0, [])
    with factory() as session:
        debtors = session.scalars(select(Debtor).order_by(Debtor.phone)).all()
        assert [d.phone for d in debtors] == ["+6281234567801", "+6281234567802"]
        budi = debtors[0]
        assert sorted(a.ref for a in budi.accounts) == ["A-1", "A-3"]
        # The last row wins for preferences.
        assert (budi.language, budi.timezone) == ("en", "Asia/Makassar")
        a3 = session.scalars(select(Account).where(Account.ref == "A-3")).one()
        assert (a3.currency, a3.amount_due, a3.due_date, a3.status, a3.fees) == (
            "IDR",
            Decimal("99.50"),
            date(2026, 12, 1),
            "active",
            Decimal("0.00"),
        )
        audit = session.scalars(select(AuditLog)).one()
        assert (audit.actor, audit.action) == ("cli", "accounts.import")
        assert audit.details is not None
        assert {k: audit.details[k] for k in ("created", "updated", "skipped", "rows")} == {
            "created": 3,
            "updated": 0,
            "skipped": 0,
            "rows": 3,
        }


def test_reimport_is_idempotent(factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = write_csv(tmp_path, *GOOD)
    import_accounts_csv(factory, path, now=NOW)
    before = dump(factory)
    report = import_accounts_csv(factory, path, now=datetime(2026, 11, 24, tzinfo=timezone.utc))
    assert (report.created, report.updated, report.skipped) == (0, 3, 0)
    assert dump(factory) == before  # not even updated_at moves
    assert count(factory, AuditLog) == 2


def test_reimport_updates_changed_fields(factory: sessionmaker[Session], tmp_path: Path) -> None:
    header = HEADER + ",telegram_chat_id,email,segment"
    import_accounts_csv(
        factory, write_csv(tmp_path, GOOD[0] + ",555,budi@example.com,able_willing", header=header), now=NOW
    )
    # Name and birth date stay: without customer_ref a row cannot change them (test_import_identity.py).
    changed = "A-1,budi  SANTOSO,+6281234567801,id,Asia/Jakarta,USD,1750000.25,2026-12-25,1988-04-12,,,"
    report = import_accounts_csv(factory, write_csv(tmp_path, changed, header=header, name="b.csv"), now=NOW)
    assert (report.created, report.updated) == (0, 1)
    with factory() as session:
        account = session.scalars(select(Account)).one()
        assert (account.currency, account.amount_due, account.due_date) == (
            "USD",
            Decimal("1750000.25"),
            date(2026, 12, 25),
        )
        assert account.segment == "able_willing"  # empty segment keeps the old one
        assert account.debtor.name == "Budi Santoso"  # compared without case and spacing, kept as stored
        assert (account.debtor.email, account.debtor.telegram_chat_id) == ("budi@example.com", "555")


BAD_ROWS = [
    # line 2 is fine
    "B-1,Budi,+6281234567801,id,Asia/Jakarta,IDR,1500000,2026-11-25,1988-04-12",
    # line 3: every kind of field error at once
    "B-2,,12345,fr,Asia/Bandung,XYZ,1.5.0,2026-13-01,2030-01-01",
    # line 4: amount details
    "B-3,Siti,081234567802,en,Asia/Jakarta,IDR,-5,25/11/2026,1990-02-30",
    # line 5
    "B-4,Andi,081234567803,id,Asia/Jakarta,IDR,100.123,2026-11-25,1990-01-01",
    # line 6: duplicate ref of line 2
    "B-1,Dewi,081234567804,id,Asia/Jakarta,IDR,100,2026-11-25,1990-01-01",
    # line 7: wrong number of fields
    "B-5,Rudi,081234567805",
    # line 8: same phone as line 2 with another birth date
    "B-6,Budi,+6281234567801,id,Asia/Jakarta,IDR,100,2026-11-25,1977-07-07",
]
EXPECTED_BAD = [
    Problem(2, "account_ref", "duplicate account_ref 'B-1' on lines 2, 6"),
    Problem(3, "name", "is required"),
    Problem(3, "phone", "not a valid phone number: '12345' (use E.164 like +6281234567890 or 08...)"),
    Problem(3, "language", "must be 'id' or 'en', got 'fr'"),
    Problem(3, "timezone", "unknown IANA timezone 'Asia/Bandung' (e.g. Asia/Jakarta, Asia/Makassar)"),
    Problem(3, "currency", "unknown ISO 4217 currency code 'XYZ'"),
    Problem(3, "amount_due", "not a decimal amount: '1.5.0' (write 1500000 or 1500000.00)"),
    Problem(3, "due_date", "not a valid date: '2026-13-01'"),
    Problem(3, "birth_date", "must be in the past: 2030-01-01"),
    Problem(4, "amount_due", "must not be negative: -5"),
    Problem(4, "due_date", "not a date in YYYY-MM-DD form: '25/11/2026'"),
    Problem(4, "birth_date", "not a valid date: '1990-02-30'"),
    Problem(5, "amount_due", "has more than 2 decimal places: 100.123"),
    Problem(6, "account_ref", "duplicate account_ref 'B-1' on lines 2, 6"),
    Problem(7, "row", "expected 9 fields, found 3"),
    Problem(8, "phone", "+6281234567801 already belongs to another debtor (account B-1 on line 2)"),
]


def test_bad_rows_are_reported_and_nothing_is_written(factory: sessionmaker[Session], tmp_path: Path) -> None:
    with pytest.raises(ImportValidationError) as info:
        import_accounts_csv(factory, write_csv(tmp_path, *BAD_ROWS), now=NOW)
    assert info.value.errors == EXPECTED_BAD
    assert "16 error(s)" in str(info.value)
    assert count(factory, Account) == count(factory, Debtor) == count(factory, AuditLog) == 0


def test_one_bad_row_blocks_the_whole_file(factory: sessionmaker[Session], tmp_path: Path) -> None:
    bad = "A-9,Rudi,081234567809,id,Asia/Jakarta,IDR,1000,2026-11-25,1990-01-01,"  # one field too many
    with pytest.raises(ImportValidationError) as info:
        import_accounts_csv(factory, write_csv(tmp_path, *GOOD, bad), now=NOW)
    assert info.value.errors == [Problem(5, "row", "expected 9 fields, found 10")]
    assert count(factory, Account) == 0


def test_skip_invalid_imports_the_good_rows(factory: sessionmaker[Session], tmp_path: Path) -> None:
    report = import_accounts_csv(factory, write_csv(tmp_path, *BAD_ROWS), skip_invalid=True, now=NOW)
    assert report.errors == EXPECTED_BAD
    # Only line 2 was good, and it is a duplicate ref (both copies are skipped), so nothing is left.
    assert (report.created, report.updated, report.skipped) == (0, 0, 7)
    report = import_accounts_csv(
        factory, write_csv(tmp_path, *GOOD, BAD_ROWS[1], name="c.csv"), skip_invalid=True, now=NOW
    )
    assert (report.created, report.updated, report.skipped) == (3, 0, 1)
    assert {e.line for e in report.errors} == {5}
    assert count(factory, Account) == 3
    with factory() as session:
        audit = session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
        assert audit is not None and audit.details is not None
        assert (audit.details["skipped"], audit.details["errors"]) == (1, 8)


def test_missing_and_unknown_columns_are_file_errors(factory: sessionmaker[Session], tmp_path: Path) -> None:
    header = "account_ref,name,phone,language,timezone,currency,due_date,birthdate"
    with pytest.raises(ImportValidationError) as info:
        import_accounts_csv(factory, write_csv(tmp_path, header=header), skip_invalid=True)
    assert info.value.errors == [
        Problem(1, "amount_due", "missing required column"),
        Problem(1, "birth_date", "missing required column"),
        Problem(1, "birthdate", "unknown column"),
    ]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ImportValidationError) as info:
        import_accounts_csv(factory, empty)
    assert info.value.errors == [Problem(1, "header", "the file is empty")]


def test_optional_columns_are_validated(factory: sessionmaker[Session], tmp_path: Path) -> None:
    header = HEADER + ",telegram_chat_id,email,segment"
    row = "C-1,Budi,+6281234567801,id,Asia/Jakarta,IDR,10,2026-11-25,1988-04-12,"
    with pytest.raises(ImportValidationError) as info:
        import_accounts_csv(factory, write_csv(tmp_path, row + "@budi,budi-at-example,rich", header=header))
    assert info.value.errors == [
        Problem(2, "telegram_chat_id", "must be a numeric Telegram chat id, got '@budi'"),
        Problem(2, "email", "not a valid email address: 'budi-at-example'"),
        Problem(
            2,
            "segment",
            "must be one of able_willing, able_unwilling, unable_willing, unable_unwilling; got 'rich'",
        ),
    ]


def test_line_numbers_are_physical_lines(factory: sessionmaker[Session], tmp_path: Path) -> None:
    rows = [
        'D-1,"Budi\nSantoso",+6281234567801,id,Asia/Jakarta,IDR,10,2026-11-25,1988-04-12',  # lines 2-3
        "",  # line 4 blank, ignored
        "D-2,Siti,081234567802,id,Asia/Jakarta,IDR,x,2026-11-25,1988-04-12",  # line 5
    ]
    with pytest.raises(ImportValidationError) as info:
        import_accounts_csv(factory, write_csv(tmp_path, *rows))
    assert [(e.line, e.field) for e in info.value.errors] == [(5, "amount_due")]


def test_row_dicts_share_the_messages(factory: sessionmaker[Session]) -> None:
    rows = [
        {
            "account_ref": "E-1",
            "name": "Budi",
            "phone": "081234567801",
            "language": "id",
            "timezone": "Asia/Jakarta",
            "currency": "IDR",
            "amount_due": 1500000,
            "due_date": "2026-11-25",
            "birth_date": "1988-04-12",
        },
        {
            "account_ref": "E-2",
            "name": "Siti",
            "phone": "12345",
            "language": "id",
            "timezone": "Asia/Jakarta",
            "currency": "IDR",
            "amount_due": 1.5,
            "due_date": "2026-11-25",
            "birth_date": "1988-04-12",
            "colour": "red",
        },
    ]
    with factory() as session, pytest.raises(ImportValidationError) as info:
        import_account_rows(session, rows, source_name="test")
    assert info.value.errors == [
        Problem(2, "phone", "not a valid phone number: '12345' (use E.164 like +6281234567890 or 08...)"),
        Problem(2, "amount_due", "must be text"),
        Problem(2, "colour", "unknown column"),
    ]
    with factory() as session, session.begin():
        report = import_account_rows(session, rows[:1], source_name="test", actor="api")
    assert (report.created, report.updated) == (1, 0)
    with factory() as session:
        account = session.scalars(select(Account)).one()
        assert account.amount_due == Decimal("1500000.00")
        assert session.scalars(select(AuditLog)).one().details["source"] == "test"


def test_telegram_chat_id_owned_by_another_debtor(factory: sessionmaker[Session], tmp_path: Path) -> None:
    with factory() as session, session.begin():
        session.add(
            Debtor(
                name="Other",
                phone=None,
                telegram_chat_id="777",
                birth_date=date(1990, 1, 1),
                timezone="Asia/Jakarta",
            )
        )
    header = HEADER + ",telegram_chat_id"
    path = write_csv(tmp_path, GOOD[0] + ",777", GOOD[1] + ",", header=header)
    with pytest.raises(ImportValidationError) as info:
        import_accounts_csv(factory, path)
    assert info.value.errors == [Problem(2, "telegram_chat_id", "777 already belongs to another debtor")]
    report = import_accounts_csv(factory, path, skip_invalid=True)
    assert (report.created, report.skipped) == (1, 1)


def test_load_demo_if_empty(factory: sessionmaker[Session]) -> None:
    assert load_demo_if_empty(factory) == 8
    assert load_demo_if_empty(factory) == 0
    with factory() as session:
        refs = session.scalars(select(Account.ref).order_by(Account.ref)).all()
        languages = set(session.scalars(select(Debtor.language)))
        zones = set(session.scalars(select(Debtor.timezone)))
    assert refs == [f"DEMO-100{i}" for i in range(1, 9)]
    assert languages == {"id", "en"}
    assert zones == {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}
    assert DEMO_CSV.is_file()


def test_snapshot(factory: sessionmaker[Session], tmp_path: Path) -> None:
    import_accounts_csv(factory, write_csv(tmp_path, *GOOD), now=NOW)
    with factory() as session, session.begin():
        account = session.scalars(select(Account).where(Account.ref == "A-2")).one()
        account.fees = Decimal("25000.00")
        conv = Conversation(
            channel="whatsapp",
            sender_id="6281234567802",
            rasa_sender_id="whatsapp:6281234567802",
            debtor=account.debtor,
            account=account,
        )
        plan = InstallmentPlan(
            account=account,
            conversation=conv,
            total=Decimal("2775000.00"),
            installment_count=2,
            installments=[
                Installment(seq=1, due_date=date(2026, 12, 1), amount=Decimal("1387500.00")),
                Installment(seq=2, due_date=date(2027, 1, 1), amount=Decimal("1387500.00")),
            ],
        )
        session.add_all(
            [
                conv,
                plan,
                Payment(
                    account=account,
                    amount=Decimal("275000.00"),
                    paid_at=NOW,
                    source="import",
                    reference="TRX-1",
                ),
                PaymentClaim(account=account, conversation=conv, amount=None, paid_on=date(2026, 11, 22)),
                Promise(
                    account=account,
                    conversation=conv,
                    kind="extension",
                    amount=Decimal("2500000.00"),
                    promised_date=date(2026, 11, 30),
                ),
                Handoff(conversation=conv, account=account, reason="request_human", note="wants a person"),
                ContactPreference(
                    debtor=account.debtor,
                    channel="whatsapp",
                    address="6281234567802",
                    kind="consent_outside_hours",
                    source="debtor",
                ),
                ContactPreference(
                    debtor_id=None,
                    channel="telegram",
                    address="6281234567802",
                    kind="opt_out",
                    source="debtor",
                ),
                ContactPreference(debtor_id=None, channel="telegram", address="999", kind="opt_out", source="debtor"),
            ]
        )

    with factory() as session:
        snap = account_snapshot(session, "A-2", now=NOW)
    text = json.dumps(snap)  # JSON-ready as is
    assert "1992" not in text and "birth" not in text
    assert {
        k: snap[k]
        for k in (
            "ref",
            "currency",
            "amount_due",
            "fees",
            "paid_total",
            "waived",
            "balance",
            "due_date",
            "status",
            "days_past_due",
            "dpd_bucket",
            "segment",
        )
    } == {
        "ref": "A-2",
        "currency": "IDR",
        "amount_due": "2750000.00",
        "fees": "25000.00",
        "paid_total": "275000.00",
        "waived": "0.00",
        "balance": "2500000.00",
        "due_date": "2026-11-10",
        "status": "active",
        # 03:00 UTC is 12:00 in Jayapura on 2026-11-23: 13 days after 2026-11-10.
        "days_past_due": 13,
        "dpd_bucket": "1-30",
        "segment": None,
    }
    assert snap["debtor"] == {
        "customer_ref": None,
        "name": "Siti Rahayu",
        "phone": "+6281234567802",
        "telegram_chat_id": None,
        "email": None,
        "language": "id",
        "timezone": "Asia/Jayapura",
        "accounts": [],
    }
    assert snap["payments"][0] | {"id": 0} == {
        "id": 0,
        "amount": "275000.00",
        "paid_at": "2026-11-23T03:00:00+00:00",
        "reference": "TRX-1",
        "source": "import",
    }
    assert [(p["kind"], p["amount"], p["promised_date"], p["status"]) for p in snap["promises"]] == [
        ("extension", "2500000.00", "2026-11-30", "pending")
    ]
    assert [(i["seq"], i["amount"], i["due_date"]) for i in snap["plans"][0]["installments"]] == [
        (1, "1387500.00", "2026-12-01"),
        (2, "1387500.00", "2027-01-01"),
    ]
    assert snap["plans"][0]["total"] == "2775000.00"
    assert [(c["amount"], c["paid_on"], c["status"]) for c in snap["claims"]] == [(None, "2026-11-22", "pending")]
    assert [(h["reason"], h["status"], h["note"]) for h in snap["handoffs"]] == [
        ("request_human", "open", "wants a person")
    ]
    assert [(o["channel"], o["kind"]) for o in snap["opt_outs"]] == [
        ("whatsapp", "consent_outside_hours"),
        ("telegram", "opt_out"),
    ]


def test_snapshot_unknown_ref(factory: sessionmaker[Session]) -> None:
    with factory() as session, pytest.raises(AccountNotFound):
        account_snapshot(session, "NOPE")
