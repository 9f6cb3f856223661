"""The payment-arrangement policy in force, built from settings (editable by admins later)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.domain.schedule import InstallmentPolicy
from bot.settings import Settings


@dataclass(frozen=True)
class ArrangementPolicy:
    max_promise_days: int
    installments: InstallmentPolicy
    max_identity_attempts: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ArrangementPolicy:
        return cls(
            max_promise_days=settings.max_promise_days,
            installments=InstallmentPolicy(
                max_installments=settings.max_installments,
                min_installment=Decimal(settings.min_installment),
                max_first_days=settings.max_first_installment_days,
            ),
            max_identity_attempts=settings.max_identity_attempts,
        )
