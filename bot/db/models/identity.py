"""Security records: identity checks and their challenges and locks, channel link requests and used
link tokens, and rejected inbound deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base
from bot.db.models._columns import one_of, utcnow
from bot.db.models.conversations import CHANNELS
from bot.db.types import UTCDateTime

if TYPE_CHECKING:
    from bot.db.models.ledger import Account, Debtor

IDENTITY_FACTORS = ("birth_date", "code")
IDENTITY_OUTCOMES = ("verified", "mismatch", "code_sent", "code_unavailable", "expired", "locked", "throttled")
IDENTITY_REPLIES = (
    "verified", "code_prompt", "mismatch", "code_mismatch", "code_failed", "expired", "throttled", "locked"
)  # fmt: skip
IDENTITY_STEPS = ("birth_date", "code")
LINK_REQUEST_STATUSES = ("pending", "approved", "rejected", "expired")


class IdentityAttempt(Base):
    """One answer to an identity check, counted against the account reference it names (whether or
    not such an account exists, so a guesser sees the same answers either way), the client address it
    came from and its conversation. ``token`` is what the dialogue receives instead of the answer: the
    answer itself is never stored."""

    __tablename__ = "identity_attempts"
    __table_args__ = (
        one_of("factor", IDENTITY_FACTORS),
        one_of("outcome", IDENTITY_OUTCOMES),
        one_of("reply", IDENTITY_REPLIES),
        Index("ix_identity_attempts_ref_key_at", "ref_key", "at"),
        Index("ix_identity_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(128))
    ref_key: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    factor: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(24))
    # What the dialogue tells the sender (with a second factor, a wrong date gets the same reply as a
    # right one) and, when slowed down, for how long.
    reply: Mapped[str] = mapped_column(String(24))
    wait_seconds: Mapped[int | None] = mapped_column(Integer)
    token: Mapped[str | None] = mapped_column(String(64), unique=True)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account | None] = relationship()


class IdentityChallenge(Base):
    """What the bot is waiting for in a conversation's identity check (a date of birth for an account
    reference, or a one-time code sent to the debtor's channel on file). The app reads the next
    message against it before the dialogue sees it; only a hash of a code is kept."""

    __tablename__ = "identity_challenges"
    __table_args__ = (one_of("step", IDENTITY_STEPS),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    ref_key: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    code_hash: Mapped[str | None] = mapped_column(String(128))
    destination: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityLock(Base):
    """An account reference that may not be verified by date of birth until ``locked_until`` (too many
    wrong answers) unless an agent clears it first. Kept per reference as typed, so references that
    do not exist lock the same way; agents see the locks of real accounts."""

    __tablename__ = "identity_locks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref_key: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    failures: Mapped[int] = mapped_column(Integer)
    addresses: Mapped[Any | None] = mapped_column(JSON)
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by: Mapped[str | None] = mapped_column(String(254))

    account: Mapped[Account | None] = relationship()


class LinkRequest(Base):
    """A channel identity (a Telegram chat) that asked to be linked to a debtor while that debtor, or
    that chat, is already linked elsewhere. Nothing changes until the debtor confirms through the
    identity already on file or an agent decides."""

    __tablename__ = "link_requests"
    __table_args__ = (one_of("status", LINK_REQUEST_STATUSES), one_of("channel", CHANNELS))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(128))
    previous_address: Mapped[str | None] = mapped_column(String(128))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    how: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(254))

    debtor: Mapped[Debtor] = relationship()


class UsedLinkToken(Base):
    """Deep-link tokens already used: a link works once."""

    __tablename__ = "used_link_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundRejection(Base):
    """A signed platform delivery that can never be processed (e.g. text that is not valid Unicode):
    acknowledged so the platform stops retrying, and kept here with the reason for operators."""

    __tablename__ = "inbound_rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    body_size: Mapped[int] = mapped_column(Integer)
    excerpt: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
