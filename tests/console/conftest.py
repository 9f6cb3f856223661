"""Console fixtures: a migrated database, users, and a conversation waiting for a person."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Account, Conversation, Handoff, Message, PaymentClaim, User
from bot.db.session import make_engine, make_session_factory, migrate
from bot.services.accounts import import_account_rows
from tests.support import make_settings

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
_n = itertools.count(1)


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    migrate(url)
    return make_session_factory(make_engine(url))


@pytest.fixture
def settings(tmp_path: Path):
    return make_settings(tmp_path)


def add_user(factory, email: str, role: str = "agent") -> User:
    with factory.begin() as session:
        user = User(email=email, role=role, password_hash="not-used-here", name=email.split("@")[0].title())
        session.add(user)
        session.flush()
        session.expunge(user)
        return user


@pytest.fixture
def agent(factory) -> User:
    return add_user(factory, "ana@tagih.example")


@pytest.fixture
def other_agent(factory) -> User:
    return add_user(factory, "budi@tagih.example")


@pytest.fixture
def admin(factory) -> User:
    return add_user(factory, "admin@tagih.example", "admin")


@dataclass
class Waiting:
    conversation_id: int
    handoff_id: int
    account_ref: str
    claim_id: int


@pytest.fixture
def waiting(factory) -> Waiting:
    """A WhatsApp debtor who asked for a person 20 minutes ago, with a pending payment claim."""
    n = next(_n)
    ref = f"CON-{n:04d}"
    with factory.begin() as session:
        import_account_rows(
            session,
            [
                {
                    "account_ref": ref,
                    "name": "Rina Wati",
                    "phone": f"+62813000{n:05d}",
                    "language": "id",
                    "timezone": "Asia/Jakarta",
                    "currency": "IDR",
                    "amount_due": "1200000",
                    "due_date": "2026-11-10",
                    "birth_date": "1991-05-05",
                }
            ],
        )
        account = session.scalar(select(Account).where(Account.ref == ref))
        conversation = Conversation(
            channel="whatsapp",
            sender_id=account.debtor.phone,
            rasa_sender_id=f"whatsapp:{account.debtor.phone}",
            debtor_id=account.debtor_id,
            account_id=account.id,
            verified=True,
            language="id",
            status="agent",
            last_inbound_at=NOW - timedelta(minutes=20),
        )
        session.add(conversation)
        session.flush()
        session.add(
            Message(
                conversation_id=conversation.id,
                direction="in",
                channel="whatsapp",
                author="debtor",
                text="saya mau bicara dengan petugas",
                delivery_status="received",
                created_at=NOW - timedelta(minutes=20),
            )
        )
        handoff = Handoff(
            conversation_id=conversation.id,
            account_id=account.id,
            reason="request_human",
            created_at=NOW - timedelta(minutes=20),
        )
        claim = PaymentClaim(account_id=account.id, amount=Decimal("200000"), reference="TRX-77")
        session.add_all([handoff, claim])
        session.flush()
        return Waiting(conversation.id, handoff.id, ref, claim.id)
