"""Agents see identity locks and attempts and can clear a lock; they decide channel link requests the
debtor did not confirm. Through the console API of the real app (no Rasa needed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Account, AuditLog, Conversation, Debtor, IdentityLock, LinkRequest, Message
from bot.services.accounts import import_account_rows
from bot.services.conversations import get_or_create_conversation
from bot.services.identity_checks import IdentityLimits, IdentityScreen, Reach, open_challenge
from bot.services.linking import link_telegram_chat
from bot.web.app import create_app
from tests.console_support import logged_in_clients
from tests.security.conftest import AGENT
from tests.support import FIXED_NOW, fixed_clock


@pytest.fixture(autouse=True)
def debtor(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        import_account_rows(
            session,
            [
                {
                    "account_ref": "SEC-0001",
                    "name": "Rina Wati",
                    "phone": "+6281300000001",
                    "telegram_chat_id": "5550001",
                    "language": "id",
                    "timezone": "Asia/Jakarta",
                    "currency": "IDR",
                    "amount_due": "1200000",
                    "due_date": "2026-11-10",
                    "birth_date": "1991-05-05",
                }
            ],
        )


def lock_account(factory: sessionmaker[Session]) -> None:
    """Five wrong dates of birth for SEC-0001 from five addresses, an hour apart."""
    now = FIXED_NOW - timedelta(hours=6)
    for n in range(5):
        at = now + timedelta(hours=n)
        screen = IdentityScreen(IdentityLimits(), Reach.on(()), "k" * 32, lambda at=at: at)
        with factory.begin() as session:
            conversation, _ = get_or_create_conversation(session, channel="web", sender_id=f"guess-{n}")
            open_challenge(session, conversation, ref="SEC-0001", now=at)
            screen(session, conversation, "01-01-1970", address=f"ip:10.0.0.{n}")


def test_agents_see_locks_and_attempts_and_clear_a_lock(settings, factory) -> None:
    lock_account(factory)
    with logged_in_clients(create_app(settings, clock=fixed_clock, channels={})) as open_client:
        client, csrf = open_client(AGENT)
        anonymous, _ = open_client(None)
        assert anonymous.get("/console/api/security").status_code == 401
        view = client.get("/console/api/security").json()
        [lock] = view["locks"]
        assert lock["account"] == "SEC-0001" and lock["failures"] == 5 and lock["addresses"] == 5
        # refused without the CSRF token, then cleared with it
        assert client.post(f"/console/api/identity-locks/{lock['id']}/clear").status_code == 403
        response = client.post(f"/console/api/identity-locks/{lock['id']}/clear", headers={"X-CSRF-Token": csrf})
        assert response.status_code == 200 and response.json()["cleared_by"] == f"agent:{AGENT}"
        assert client.get("/console/api/security").json()["locks"] == []
        assert client.post("/console/api/identity-locks/99999/clear", headers={"X-CSRF-Token": csrf}).status_code == 404
    with factory() as session:
        assert session.scalar(select(IdentityLock)).cleared_at is not None
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "identity.lock_cleared"))
        assert entry is not None and entry.actor == f"agent:{AGENT}"


def test_agents_decide_a_link_request(settings, factory) -> None:
    with factory.begin() as session:
        debtor = session.scalar(select(Debtor).where(Debtor.phone == "+6281300000001"))
        newcomer, _ = get_or_create_conversation(session, channel="telegram", sender_id="5550002", language="id")
        outcome = link_telegram_chat(session, newcomer, debtor, how="shared_contact", now=FIXED_NOW)
        assert not outcome.linked and outcome.request is not None
        request_id, newcomer_id = outcome.request.id, newcomer.id
    with logged_in_clients(create_app(settings, clock=fixed_clock, channels={})) as open_client:
        client, csrf = open_client(AGENT)
        [pending] = client.get("/console/api/security").json()["link_requests"]
        assert pending["id"] == request_id and pending["accounts"] == ["SEC-0001"] and pending["replaces_a_link"]
        headers = {"X-CSRF-Token": csrf}
        response = client.post(f"/console/api/link-requests/{request_id}", json={"approve": True}, headers=headers)
        assert response.status_code == 200
        again = client.post(f"/console/api/link-requests/{request_id}", json={"approve": False}, headers=headers)
        assert again.status_code == 409  # decided once
    with factory() as session:
        assert session.get(LinkRequest, request_id).decided_by == f"agent:{AGENT}"
        assert session.scalar(select(Debtor.telegram_chat_id).where(Debtor.phone == "+6281300000001")) == "5550002"
        newcomer = session.get(Conversation, newcomer_id)
        assert newcomer.verified and newcomer.account_id == session.scalar(select(Account.id))
        told = session.scalars(select(Message.text).where(Message.conversation_id == newcomer_id)).all()
        assert any("terhubung" in (text or "") for text in told)
