"""Database layer: models, column types, engines, sessions and migrations."""

from bot.db.base import Base
from bot.db.models import (
    Account,
    AuditLog,
    ContactPreference,
    Conversation,
    Debtor,
    Handoff,
    Installment,
    InstallmentPlan,
    Message,
    Payment,
    PaymentClaim,
    Promise,
    dpd_bucket,
    utcnow,
)
from bot.db.session import alembic_config, make_engine, make_session_factory, migrate, normalize_url
from bot.db.types import Money, UTCDateTime

__all__ = [
    "Account",
    "AuditLog",
    "Base",
    "ContactPreference",
    "Conversation",
    "Debtor",
    "Handoff",
    "Installment",
    "InstallmentPlan",
    "Message",
    "Money",
    "Payment",
    "PaymentClaim",
    "Promise",
    "UTCDateTime",
    "alembic_config",
    "dpd_bucket",
    "make_engine",
    "make_session_factory",
    "migrate",
    "normalize_url",
    "utcnow",
]
