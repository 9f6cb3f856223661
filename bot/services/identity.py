"""Identity check for senders not yet proven to be the debtor (web chat, unknown numbers)."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Account, Conversation, Debtor
from bot.services.audit import audit

_REF_TOKEN = re.compile(r"[A-Za-z]{2,5}[-\s]?\d{3,}|\d{5,}")


def normalise_ref(ref: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", ref).upper()


def find_ref_candidate(text: str) -> str | None:
    """Pull an account-number-looking token out of a sentence ("no kontrak sy TGH 10023")."""
    match = _REF_TOKEN.search(text)
    return match.group(0) if match else None


def _account_by_ref(session: Session, ref: str) -> Account | None:
    key = normalise_ref(ref)
    if not key:
        return None
    return session.scalar(
        select(Account).where(func.replace(func.replace(func.upper(Account.ref), "-", ""), " ", "") == key)
    )


def verify_identity(
    session: Session, conversation: Conversation, *, account_ref: str, birth_date: date
) -> Account | None:
    """Link the conversation to the account when ref and birth date both match.

    The caller learns only match / no match, never which half was wrong, so the check
    cannot be used to discover which account numbers exist.
    """
    account = _account_by_ref(session, account_ref)
    ok = account is not None and account.debtor.birth_date == birth_date
    audit(
        session,
        actor="bot",
        action="identity.verified" if ok else "identity.failed",
        entity_type="account" if ok else None,
        entity_id=account.ref if ok and account else None,
        conversation_id=conversation.id,
    )
    if not ok or account is None:
        return None
    conversation.verified = True
    conversation.account_id = account.id
    conversation.debtor_id = account.debtor_id
    conversation.language = account.debtor.language
    return account


def primary_account(debtor: Debtor, *, now: datetime | None = None) -> Account | None:
    """The account a conversation with this debtor is about: the most overdue open one."""
    open_accounts = [a for a in debtor.accounts if a.status in ("active", "disputed") and a.balance > 0]
    candidates = open_accounts or list(debtor.accounts)
    if not candidates:
        return None
    return max(candidates, key=lambda a: (a.days_past_due(now), a.balance, a.id))


def debtor_by_phone(session: Session, phone: str) -> Debtor | None:
    return session.scalar(select(Debtor).where(Debtor.phone == phone))


def debtor_by_telegram_chat(session: Session, chat_id: str) -> Debtor | None:
    return session.scalar(select(Debtor).where(Debtor.telegram_chat_id == chat_id))


def link_conversation(
    session: Session, conversation: Conversation, debtor: Debtor, *, how: str, now: datetime | None = None
) -> Account | None:
    """Mark a channel conversation as the verified debtor's (a number on file, a linked chat)."""
    account = primary_account(debtor, now=now)
    conversation.verified = True
    conversation.debtor_id = debtor.id
    conversation.account_id = account.id if account else None
    conversation.language = debtor.language
    audit(
        session,
        actor="bot",
        action="identity.linked",
        entity_type="debtor",
        entity_id=debtor.id,
        conversation_id=conversation.id,
        details={"how": how, "channel": conversation.channel},
    )
    return account
