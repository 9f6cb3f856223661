"""The application's tables.

Enumerated strings are plain ``String`` columns with CHECK constraints (not database ENUM types) so
adding a value is a one-line migration on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from bot.db.base import Base
from bot.db.types import Money, UTCDateTime, from_minor_units, to_minor_units

LANGUAGES = ("id", "en")
ACCOUNT_STATUSES = ("active", "paid", "disputed", "closed")
SEGMENTS = ("able_willing", "able_unwilling", "unable_willing", "unable_unwilling")
PAYMENT_SOURCES = ("import", "api", "agent", "claim")
CLAIM_STATUSES = ("pending", "confirmed", "rejected")
PROMISE_KINDS = ("promise", "extension", "settlement")
PROMISE_STATUSES = ("pending", "kept", "broken", "cancelled")
PLAN_STATUSES = ("active", "completed", "broken", "cancelled")
INSTALLMENT_STATUSES = ("pending", "paid", "missed")
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
DPD_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _one_of(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    """CHECK constraint named ``ck_<table>_<name>`` through the naming convention."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name or column)


def _money_validator(*names: str) -> Any:
    """Reject floats and sub-cent amounts when assigned, not later at flush time far from the bug."""

    @validates(*names)
    def _validate(self: Any, key: str, value: Any) -> Decimal | None:
        if value is None:
            return None
        return from_minor_units(to_minor_units(value))

    return _validate


class _PaidTotal(Decimal):
    """The paid total, usable both as ``account.paid_total`` and ``account.paid_total()``.

    Callers were written against both spellings; a callable ``Decimal`` keeps both correct.
    """

    def __call__(self) -> Decimal:
        return Decimal(self)


class Debtor(Base):
    __tablename__ = "debtors"
    __table_args__ = (_one_of("language", LANGUAGES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_ref: Mapped[str | None] = mapped_column(String(64), unique=True)  # the lender's own customer id
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True, index=True)
    telegram_chat_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2), default="id")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Jakarta")
    birth_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    accounts: Mapped[list[Account]] = relationship(back_populates="debtor", order_by="Account.id")
    contact_preferences: Mapped[list[ContactPreference]] = relationship(
        back_populates="debtor", order_by="ContactPreference.id"
    )

    def __repr__(self) -> str:
        return f"<Debtor id={self.id} phone={self.phone!r}>"


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        _one_of("status", ACCOUNT_STATUSES),
        _one_of("segment", SEGMENTS),
    )

    _check_money = _money_validator("amount_due", "fees", "waived")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="RESTRICT"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_due: Mapped[Decimal] = mapped_column(Money)
    fees: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # Waived by a kept early-settlement promise (the policy's discount), never money received.
    waived: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    segment: Mapped[str | None] = mapped_column(String(32))
    virtual_account: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    debtor: Mapped[Debtor] = relationship(back_populates="accounts")
    payments: Mapped[list[Payment]] = relationship(
        back_populates="account", order_by="Payment.paid_at", cascade="all, delete-orphan"
    )
    claims: Mapped[list[PaymentClaim]] = relationship(
        back_populates="account", order_by="PaymentClaim.id", cascade="all, delete-orphan"
    )
    promises: Mapped[list[Promise]] = relationship(
        back_populates="account", order_by="Promise.id", cascade="all, delete-orphan"
    )
    plans: Mapped[list[InstallmentPlan]] = relationship(
        back_populates="account", order_by="InstallmentPlan.id", cascade="all, delete-orphan"
    )
    handoffs: Mapped[list[Handoff]] = relationship(back_populates="account", order_by="Handoff.id")

    @property
    def paid_total(self) -> _PaidTotal:
        """Sum of recorded payments (confirmed money only; claims are not payments)."""
        return _PaidTotal(sum((p.amount for p in self.payments), Decimal("0.00")))

    @property
    def balance(self) -> Decimal:
        """What is still owed; overpayment shows as zero, not as a negative debt."""
        owed = self.amount_due + (self.fees or Decimal("0")) - (self.waived or Decimal("0"))
        return max(Decimal("0.00"), owed - self.paid_total)

    def local_today(self, now: datetime | None = None) -> date:
        """Today's date where the debtor lives: DPD changes at the debtor's midnight, not the server's."""
        now = now or utcnow()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        return now.astimezone(ZoneInfo(self.debtor.timezone)).date()

    def days_past_due(self, now: datetime | None = None) -> int:
        return max(0, (self.local_today(now) - self.due_date).days)

    def dpd_bucket(self, now: datetime | None = None) -> str:
        return dpd_bucket(self.days_past_due(now))

    def __repr__(self) -> str:
        return f"<Account id={self.id} ref={self.ref!r}>"


def dpd_bucket(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "90+"


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (_one_of("source", PAYMENT_SOURCES),)

    _check_money = _money_validator("amount")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reference: Mapped[str | None] = mapped_column(String(128), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(back_populates="payments")


class PaymentClaim(Base):
    """What the debtor says they paid; becomes a Payment only once confirmed."""

    __tablename__ = "payment_claims"
    __table_args__ = (_one_of("status", CLAIM_STATUSES),)

    _check_money = _money_validator("amount")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"), index=True)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    paid_on: Mapped[date | None] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(back_populates="claims")
    conversation: Mapped[Conversation | None] = relationship()


class Promise(Base):
    __tablename__ = "promises"
    __table_args__ = (_one_of("kind", PROMISE_KINDS), _one_of("status", PROMISE_STATUSES))

    _check_money = _money_validator("amount")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="promise")
    amount: Mapped[Decimal] = mapped_column(Money)
    promised_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(back_populates="promises")
    conversation: Mapped[Conversation | None] = relationship()


class InstallmentPlan(Base):
    __tablename__ = "installment_plans"
    __table_args__ = (
        _one_of("status", PLAN_STATUSES),
        CheckConstraint("installment_count > 0", name="installment_count_positive"),
    )

    _check_money = _money_validator("total")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"), index=True)
    total: Mapped[Decimal] = mapped_column(Money)
    installment_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(back_populates="plans")
    conversation: Mapped[Conversation | None] = relationship()
    installments: Mapped[list[Installment]] = relationship(
        back_populates="plan", order_by="Installment.seq", cascade="all, delete-orphan"
    )


class Installment(Base):
    __tablename__ = "installments"
    __table_args__ = (
        UniqueConstraint("plan_id", "seq"),
        _one_of("status", INSTALLMENT_STATUSES),
    )

    _check_money = _money_validator("amount")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("installment_plans.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="pending")

    plan: Mapped[InstallmentPlan] = relationship(back_populates="installments")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "sender_id"),
        _one_of("channel", CHANNELS),
        _one_of("status", CONVERSATION_STATUSES),
        _one_of("language", LANGUAGES),
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
        _one_of("direction", DIRECTIONS),
        _one_of("channel", CHANNELS),
        _one_of("author", AUTHORS),
        _one_of("delivery_status", DELIVERY_STATUSES),
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
        _one_of("reason", HANDOFF_REASONS),
        _one_of("status", HANDOFF_STATUSES),
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
        _one_of("channel", CHANNELS),
        _one_of("kind", PREFERENCE_KINDS),
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


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity_type_entity_id", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    details: Mapped[Any | None] = mapped_column(JSON)


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
        _one_of("kind", NUDGE_KINDS),
        _one_of("status", NUDGE_STATUSES),
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


class ConfigDocument(Base):
    """A versioned configuration document (reminder ladder, contact profile); the newest is in force."""

    __tablename__ = "config_documents"
    __table_args__ = (UniqueConstraint("kind", "version", name="uq_config_documents_kind_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


USER_ROLES = ("admin", "agent")


class User(Base):
    """A person using the console: ``agent`` handles conversations, ``admin`` also manages the bot."""

    __tablename__ = "users"
    __table_args__ = (_one_of("role", USER_ROLES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebSession(Base):
    """A console login. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """Failed and successful logins, for throttling and the audit trail."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Note(Base):
    """A private note on a conversation: agents see it, debtors never do."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


class FlowVersion(Base):
    """One version of the flow set: every file admins can edit (Rasa training files, the reminder
    ladder, canned replies) by repository path. The newest version is in force; versions are never
    changed, a restore writes a new one."""

    __tablename__ = "flow_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    documents: Mapped[Any] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


TRAINING_STATUSES = ("queued", "validating", "training", "evaluating", "succeeded", "failed", "cancelled")


class TrainingJob(Base):
    """A Rasa model trained in the background for the admin editor. The row is the job's whole state
    (the browser polls it, a restarted app still shows the outcome) and, once it succeeded, the record
    of the model file it produced."""

    __tablename__ = "training_jobs"
    __table_args__ = (
        _one_of("status", TRAINING_STATUSES),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(200), default="queued")
    log_tail: Mapped[str] = mapped_column(Text, default="")
    model_name: Mapped[str | None] = mapped_column(String(100), index=True)
    config_override: Mapped[Any | None] = mapped_column(JSON)
    validation_output: Mapped[str | None] = mapped_column(Text)
    evaluation: Mapped[Any | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    runner: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ModelActivation(Base):
    """Each time a model was put in service; the newest row is the model ``tagih serve`` starts with."""

    __tablename__ = "model_activations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(100))
    previous_model: Mapped[str | None] = mapped_column(String(100))
    activated_by: Mapped[str] = mapped_column(String(254))
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# -- security: identity checks, channel links, rejected deliveries --------------------------------

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
        _one_of("factor", IDENTITY_FACTORS),
        _one_of("outcome", IDENTITY_OUTCOMES),
        _one_of("reply", IDENTITY_REPLIES),
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
    __table_args__ = (_one_of("step", IDENTITY_STEPS),)

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
    __table_args__ = (_one_of("status", LINK_REQUEST_STATUSES), _one_of("channel", CHANNELS))

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


PROPOSAL_KINDS = ("promise", "installments")
PROPOSAL_STATUSES = ("pending", "accepted", "declined")


class Proposal(Base):
    """A debtor's offer the bot may not accept but agents may (the policy's agent limits): kept as
    offered, with a handoff, until an agent answers it."""

    __tablename__ = "proposals"
    __table_args__ = (_one_of("kind", PROPOSAL_KINDS), _one_of("status", PROPOSAL_STATUSES))

    _check_money = _money_validator("amount")

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
