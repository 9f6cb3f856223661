"""Conversations in every channel: the conversation, its messages, handoffs to agents, agents' notes,
debtors' offers awaiting an agent, and contact preferences."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base
from bot.db.models._columns import money_validator, one_of, utcnow
from bot.db.models.ledger import LANGUAGES
from bot.db.types import Money, UTCDateTime

if TYPE_CHECKING:
    from bot.db.models.desk import User
    from bot.db.models.ledger import Account, Debtor

CHANNELS = ("web", "whatsapp", "telegram")
CONVERSATION_STATUSES = ("bot", "agent", "closed")
DIRECTIONS = ("in", "out")
AUTHORS = ("debtor", "bot", "agent", "system")
DELIVERY_STATUSES = ("received", "queued", "sent", "delivered", "read", "failed")
HANDOFF_REASONS = (
    "request_human", "dispute", "fallback", "identity_failed", "final_notice", "policy", "complaint", "distress",
    "proposal",
)  # fmt: skip
HANDOFF_STATUSES = ("open", "claimed", "resolved")
PREFERENCE_KINDS = ("opt_out", "consent_outside_hours")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "sender_id"),
        one_of("channel", CHANNELS),
        one_of("status", CONVERSATION_STATUSES),
        one_of("language", LANGUAGES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender_id: Mapped[str] = mapped_column(String(128))
    rasa_sender_id: Mapped[str] = mapped_column(String(160), unique=True)
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="SET NULL"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(2))
    # The debtor asked for a language: the bot keeps it instead of following the language they write.
    language_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default="bot", index=True)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Web chat: a page of this conversation is open until then (renewed while it stays connected),
    # so reminders may be shown there. Kept in the database, as the scheduler may run elsewhere.
    page_open_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    debtor: Mapped[Debtor | None] = relationship()
    account: Mapped[Account | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id", cascade="all, delete-orphan"
    )


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "channel_message_id"),
        one_of("direction", DIRECTIONS),
        one_of("channel", CHANNELS),
        one_of("author", AUTHORS),
        one_of("delivery_status", DELIVERY_STATUSES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[Any | None] = mapped_column(JSON)
    channel_message_id: Mapped[str | None] = mapped_column(String(255))
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Inbound: set once the dialogue has handled the message (unset rows are picked up at start).
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Outbound: delivery attempts so far and when the next one is due.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Handoff(Base):
    __tablename__ = "handoffs"
    __table_args__ = (
        one_of("reason", HANDOFF_REASONS),
        one_of("status", HANDOFF_STATUSES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    assigned_to: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    conversation: Mapped[Conversation] = relationship()
    account: Mapped[Account | None] = relationship(back_populates="handoffs")


class ContactPreference(Base):
    """Opt-outs and consents, kept per channel address so they hold before the debtor is known."""

    __tablename__ = "contact_preferences"
    __table_args__ = (
        Index("ix_contact_preferences_channel_address", "channel", "address"),
        one_of("channel", CHANNELS),
        one_of("kind", PREFERENCE_KINDS),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    debtor: Mapped[Debtor | None] = relationship(back_populates="contact_preferences")


class Note(Base):
    """A private note on a conversation: agents see it, debtors never do."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


PROPOSAL_KINDS = ("promise", "installments")
PROPOSAL_STATUSES = ("pending", "accepted", "declined")


class Proposal(Base):
    """A debtor's offer the bot may not accept but agents may (the policy's agent limits): kept as
    offered, with a handoff, until an agent answers it."""

    __tablename__ = "proposals"
    __table_args__ = (one_of("kind", PROPOSAL_KINDS), one_of("status", PROPOSAL_STATUSES))

    _check_money = money_validator("amount")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    installment_count: Mapped[int | None] = mapped_column(Integer)
    first_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(254))

    account: Mapped[Account] = relationship()
