"""Identity check for senders not yet proven to be the debtor (web chat, unknown numbers)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Account, Conversation, Debtor
from bot.services.audit import audit

_PHONE_TOKEN = re.compile(r"(?<![\w+])(?:\+?62[\s-]?|0)8[\d\s-]{7,14}\d")
_REF_TOKEN = re.compile(r"[A-Za-z]{2,5}[-\s]?\d{3,}|\d{5,}")


def normalise_ref(ref: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", ref).upper()


def find_ref_candidate(text: str) -> str | None:
    """Pull an account-number-looking token out of a sentence ("no kontrak sy TGH 10023")."""
    phone = _PHONE_TOKEN.search(text)  # a debtor without the contract number gives their phone number
    if phone:
        return phone.group(0)
    match = _REF_TOKEN.search(text)
    return match.group(0) if match else None


def account_by_ref(session: Session, ref: str) -> Account | None:
    key = normalise_ref(ref)
    if not key:
        return None
    return session.scalar(
        select(Account).where(func.replace(func.replace(func.upper(Account.ref), "-", ""), " ", "") == key)
    )


def open_accounts(debtor: Debtor, *, now: datetime | None = None) -> list[Account]:
    """The debtor's accounts with something to talk about, most overdue first."""
    found = [a for a in debtor.accounts if a.status in ("active", "disputed") and a.balance > 0]
    return sorted(found, key=lambda a: (a.days_past_due(now), a.balance, a.id), reverse=True)


def primary_account(debtor: Debtor, *, now: datetime | None = None) -> Account | None:
    """The account a conversation with this debtor is about: the most overdue open one."""
    candidates = open_accounts(debtor, now=now)
    if candidates:
        return candidates[0]
    return max(debtor.accounts, key=lambda a: (a.days_past_due(now), a.balance, a.id), default=None)


def mentions_ref(text: str) -> bool:
    return bool(_REF_TOKEN.search(text))


def mentioned_account(debtor: Debtor, text: str) -> Account | None:
    """The debtor's own account whose number the text names ("yg DEMO-1008 aja"), if any; separators
    and case do not matter, and of "TGH-1" and "TGH-1-2" the longer one named wins."""
    named = [a for a in debtor.accounts if _ref_pattern(a.ref).search(text)]
    return max(named, key=lambda a: len(normalise_ref(a.ref)), default=None)


def _ref_pattern(ref: str) -> re.Pattern[str]:
    chars = r"[-\s]?".join(re.escape(ch) for ch in normalise_ref(ref))
    return re.compile(rf"(?<![0-9A-Za-z]){chars}(?![0-9A-Za-z])", re.IGNORECASE)


def choose_account(session: Session, conversation: Conversation, account: Account) -> None:
    """The verified debtor asked to talk about another of their accounts."""
    if conversation.account_id == account.id:
        return
    conversation.account_id = account.id
    audit(
        session,
        actor="bot",
        action="conversation.account_chosen",
        entity_type="account",
        entity_id=account.id,
        conversation_id=conversation.id,
        details={"ref": account.ref},
    )


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
