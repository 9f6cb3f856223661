"""Identity check for senders not yet proven to be the debtor (web chat, unknown numbers)."""

from __future__ import annotations

import re
from datetime import datetime

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


def account_by_ref(session: Session, ref: str) -> Account | None:
    key = normalise_ref(ref)
    if not key:
        return None
    return session.scalar(
        select(Account).where(func.replace(func.replace(func.upper(Account.ref), "-", ""), " ", "") == key)
    )


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
