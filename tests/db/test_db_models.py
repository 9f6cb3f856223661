from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import (
    Account,
    AuditLog,
    ContactPreference,
    Conversation,
    Debtor,
    Handoff,
    Installment,
    InstallmentPlan,
    Message,
    Payment,
    PaymentClaim,
    Promise,
    dpd_bucket,
)

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def make_account(
    session: Session,
    *,
    tz: str = "Asia/Jakarta",
    due: date = date(2026, 11, 22),
    ref: str = "A-1",
    phone: str = "+6281234567801",
) -> Account:
    debtor = Debtor(name="Siti Rahayu", phone=phone, birth_date=date(1992, 9, 3), timezone=tz, language="id")
    account = Account(ref=ref, debtor=debtor, currency="IDR", amount_due=Decimal("1500000.00"), due_date=due)
    session.add(account)
    session.commit()
    return account


def test_defaults(session: Session) -> None:
    account = make_account(session)
    assert account.status == "active"
    assert account.fees == Decimal("0.00")
    assert account.created_at.tzinfo is not None
    assert account.debtor.accounts == [account]


def test_balance_and_paid_total(session: Session) -> None:
    account = make_account(session)
    account.fees = Decimal("50000.00")
    account.payments.append(Payment(amount=Decimal("500000.00"), paid_at=NOW, source="api", reference="TX-1"))
    account.payments.append(Payment(amount=Decimal("0.01"), paid_at=NOW, source="agent"))
    session.commit()
    assert account.paid_total == Decimal("500000.01")
    assert account.paid_total() == Decimal("500000.01")  # callable spelling works too
    assert account.balance == Decimal("1049999.99")
    account.payments.append(Payment(amount=Decimal("9999999.00"), paid_at=NOW, source="api"))
    assert account.balance == Decimal("0.00")  # never negative


@pytest.mark.parametrize(
    ("tz", "now", "expected_today", "expected_dpd"),
    [
        # 16:30 UTC is 23:30 in Jakarta (UTC+7) but already 01:30 the next day in Jayapura (UTC+9).
        ("Asia/Jakarta", datetime(2026, 11, 22, 16, 30, tzinfo=timezone.utc), date(2026, 11, 22), 0),
        ("Asia/Jayapura", datetime(2026, 11, 22, 16, 30, tzinfo=timezone.utc), date(2026, 11, 23), 1),
        ("Asia/Makassar", datetime(2026, 11, 22, 15, 59, tzinfo=timezone.utc), date(2026, 11, 22), 0),
        ("Asia/Makassar", datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc), date(2026, 11, 23), 1),
        ("Asia/Jakarta", datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc), date(2026, 11, 23), 1),
    ],
)
def test_days_past_due_uses_debtor_midnight(
    session: Session, tz: str, now: datetime, expected_today: date, expected_dpd: int
) -> None:
    account = make_account(session, tz=tz)
    assert account.local_today(now) == expected_today
    assert account.days_past_due(now) == expected_dpd


def test_days_past_due_never_negative_and_naive_now_rejected(session: Session) -> None:
    account = make_account(session, due=date(2026, 12, 31))
    assert account.days_past_due(NOW) == 0
    assert account.dpd_bucket(NOW) == "current"
    with pytest.raises(ValueError):
        account.days_past_due(datetime(2026, 11, 23))


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (400, "90+"),
    ],
)
def test_dpd_buckets(days: int, bucket: str) -> None:
    assert dpd_bucket(days) == bucket


def test_dpd_bucket_method(session: Session) -> None:
    account = make_account(session, due=date(2026, 9, 23))  # 61 days before NOW (Jakarta date 2026-11-23)
    assert account.days_past_due(NOW) == 61
    assert account.dpd_bucket(NOW) == "61-90"


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (Account, "status", "lost"),
        (Account, "segment", "rich"),
    ],
)
def test_check_constraints_reject_unknown_values(session: Session, model: type, field: str, value: str) -> None:
    account = make_account(session)
    setattr(account, field, value)
    with pytest.raises(IntegrityError):
        session.commit()


def test_unique_phone_and_foreign_keys(session: Session) -> None:
    make_account(session)
    session.add(Debtor(name="Other", phone="+6281234567801", birth_date=date(1990, 1, 1), timezone="Asia/Jakarta"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    session.add(Payment(account_id=999, amount=Decimal("1.00"), paid_at=NOW, source="api"))
    with pytest.raises(IntegrityError):  # SQLite foreign keys are switched on by make_engine
        session.commit()


def test_full_graph_round_trip(session: Session) -> None:
    account = make_account(session)
    conversation = Conversation(
        channel="whatsapp",
        sender_id="6281234567801",
        rasa_sender_id="whatsapp:6281234567801",
        debtor=account.debtor,
        account=account,
    )
    conversation.messages.append(
        Message(
            direction="in",
            channel="whatsapp",
            author="debtor",
            text="udh tf td pagi",
            channel_message_id="wamid.1",
            delivery_status="received",
            payload={"raw": [1, 2]},
        )
    )
    plan = InstallmentPlan(account=account, conversation=conversation, total=Decimal("1500000.00"), installment_count=3)
    plan.installments = [
        Installment(seq=3, due_date=date(2027, 1, 25), amount=Decimal("500000.00")),
        Installment(seq=1, due_date=date(2026, 11, 25), amount=Decimal("500000.00")),
        Installment(seq=2, due_date=date(2026, 12, 25), amount=Decimal("500000.00")),
    ]
    session.add_all(
        [
            conversation,
            plan,
            PaymentClaim(
                account=account,
                conversation=conversation,
                amount=Decimal("1500000.00"),
                paid_on=date(2026, 11, 23),
            ),
            Promise(
                account=account,
                conversation=conversation,
                amount=Decimal("750000.00"),
                promised_date=date(2026, 11, 30),
            ),
            Handoff(conversation=conversation, account=account, reason="dispute"),
            ContactPreference(
                debtor=account.debtor,
                channel="whatsapp",
                address="6281234567801",
                kind="opt_out",
                source="debtor",
            ),
            AuditLog(actor="bot", action="test", details={"k": "v"}),
        ]
    )
    session.commit()
    session.expire_all()
    loaded = session.scalars(select(InstallmentPlan)).one()
    assert [i.seq for i in loaded.installments] == [1, 2, 3]
    assert loaded.status == "active"
    stored = session.scalars(select(Conversation)).one()
    assert stored.verified is False and stored.status == "bot"
    assert stored.messages[0].payload == {"raw": [1, 2]}
    acc = session.scalars(select(Account)).one()
    assert [c.status for c in acc.claims] == ["pending"]
    assert [(p.kind, p.status) for p in acc.promises] == [("promise", "pending")]
    assert [h.status for h in acc.handoffs] == ["open"]
    assert acc.debtor.contact_preferences[0].kind == "opt_out"
    assert session.scalars(select(AuditLog)).one().at.tzinfo is not None


def test_unique_channel_message_id(session: Session) -> None:
    account = make_account(session)
    conversation = Conversation(channel="telegram", sender_id="42", rasa_sender_id="telegram:42", account=account)
    conversation.messages = [
        Message(direction="in", channel="telegram", author="debtor", channel_message_id="7"),
        Message(direction="in", channel="telegram", author="debtor", channel_message_id="7"),
    ]
    session.add(conversation)
    with pytest.raises(IntegrityError):
        session.commit()
