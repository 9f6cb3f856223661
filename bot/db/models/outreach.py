"""Business-initiated messages: planned nudges and the scheduler's leader lease."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base
from bot.db.models._columns import one_of, utcnow
from bot.db.types import UTCDateTime

if TYPE_CHECKING:
    from bot.db.models.conversations import Message
    from bot.db.models.ledger import Account, Debtor

NUDGE_KINDS = ("stage", "promise_follow_up", "installment_reminder")
NUDGE_STATUSES = ("planned", "claimed", "sent", "skipped", "failed")


class Nudge(Base):
    """A business-initiated message, planned once per (account, stage, due cycle).

    ``planned`` rows wait for ``not_before``; a worker moves one to ``claimed`` (with a lease in
    ``claimed_until``), and in one transaction writes the outbound message and marks it ``sent``.
    A lease that runs out (the worker died) makes the row claimable again. ``reason`` says why a
    row was deferred or skipped, for operators.
    """

    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("account_id", "stage", "cycle", name="uq_nudges_account_stage_cycle"),
        one_of("kind", NUDGE_KINDS),
        one_of("status", NUDGE_STATUSES),
        Index("ix_nudges_status_not_before", "status", "not_before"),
        Index("ix_nudges_debtor_id_sent_at", "debtor_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    stage: Mapped[str] = mapped_column(String(32))
    cycle: Mapped[str] = mapped_column(String(32))  # the due date (or promise/installment id) it belongs to
    status: Mapped[str] = mapped_column(String(16), default="planned")
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(16))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()
    debtor: Mapped[Debtor] = relationship()
    message: Mapped[Message | None] = relationship()


class Lease(Base):
    """A named, expiring lock held by one process (e.g. the scheduler leader)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
