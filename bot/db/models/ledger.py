"""The ledger: debtors, their accounts, payments and payment claims, promises and installment plans."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base
from bot.db.models._columns import money_validator, one_of, utcnow
from bot.db.types import Money, UTCDateTime

if TYPE_CHECKING:
    from bot.db.models.conversations import ContactPreference, Conversation, Handoff

LANGUAGES = ("id", "en")
ACCOUNT_STATUSES = ("active", "paid", "disputed", "closed")
SEGMENTS = ("able_willing", "able_unwilling", "unable_willing", "unable_unwilling")
PAYMENT_SOURCES = ("import", "api", "agent", "claim")
CLAIM_STATUSES = ("pending", "confirmed", "rejected")
PROMISE_KINDS = ("promise", "extension", "settlement")
PROMISE_STATUSES = ("pending", "kept", "broken", "cancelled")
PLAN_STATUSES = ("active", "completed", "broken", "cancelled")
INSTALLMENT_STATUSES = ("pending", "paid", "missed")
DPD_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


class _PaidTotal(Decimal):
    """The paid total, usable both as ``account.paid_total`` and ``account.paid_total()``.

    Callers were written against both spellings; a callable ``Decimal`` keeps both correct.
    """

    def __call__(self) -> Decimal:
        return Decimal(self)


class Debtor(Base):
    __tablename__ = "debtors"
    __table_args__ = (one_of("language", LANGUAGES),)

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
        one_of("status", ACCOUNT_STATUSES),
        one_of("segment", SEGMENTS),
    )

    _check_money = money_validator("amount_due", "fees", "waived")

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
    __table_args__ = (one_of("source", PAYMENT_SOURCES),)

    _check_money = money_validator("amount")

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
    __table_args__ = (one_of("status", CLAIM_STATUSES),)

    _check_money = money_validator("amount")

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
    __table_args__ = (one_of("kind", PROMISE_KINDS), one_of("status", PROMISE_STATUSES))

    _check_money = money_validator("amount")

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
        one_of("status", PLAN_STATUSES),
        CheckConstraint("installment_count > 0", name="installment_count_positive"),
    )

    _check_money = money_validator("total")

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
        one_of("status", INSTALLMENT_STATUSES),
    )

    _check_money = money_validator("amount")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("installment_plans.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="pending")

    plan: Mapped[InstallmentPlan] = relationship(back_populates="installments")
