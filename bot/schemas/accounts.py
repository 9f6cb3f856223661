"""An account as others see it: the result of a bulk upsert, and the snapshot of one account with its
history, which is both the JSON of ``tagih accounts show REF --json`` and of ``GET /api/accounts/{ref}``.

The snapshot models follow ``bot.services.accounts.account_snapshot`` key for key and in its order:
dates and money stay the strings the service made, and keys added there later pass through
(``extra="allow"``). The birth date is never part of it: it is the identity-check secret.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.schemas.errors import RowErrorOut


class AccountImportOut(BaseModel):
    created: int
    updated: int
    skipped: int = Field(description="Invalid rows left out (only with skip_invalid)")
    errors: list[RowErrorOut] = Field(description="Why each skipped row was left out")


class _Snapshot(BaseModel):
    model_config = ConfigDict(extra="allow")


class OtherAccountOut(_Snapshot):
    """Another account of the same debtor: an agent talks to a person, not to one account."""

    ref: str
    balance: str | None
    status: str
    days_past_due: int


class DebtorOut(_Snapshot):
    customer_ref: str | None
    name: str
    phone: str | None
    telegram_chat_id: str | None
    email: str | None
    language: str
    timezone: str
    accounts: list[OtherAccountOut]


class PromiseOut(_Snapshot):
    id: int
    kind: str
    amount: str
    promised_date: str
    status: str
    conversation_id: int | None
    created_at: str | None


class InstallmentOut(_Snapshot):
    seq: int
    due_date: str
    amount: str
    status: str


class PlanOut(_Snapshot):
    id: int
    total: str
    installment_count: int
    status: str
    conversation_id: int | None
    created_at: str | None
    installments: list[InstallmentOut]


class PaymentRecordOut(_Snapshot):
    id: int
    amount: str
    paid_at: str
    reference: str | None
    source: str


class ClaimOut(_Snapshot):
    id: int
    amount: str | None
    paid_on: str | None
    reference: str | None
    status: str
    conversation_id: int | None
    created_at: str | None


class HandoffOut(_Snapshot):
    id: int
    reason: str
    note: str | None
    status: str
    assigned_to: str | None
    conversation_id: int | None
    created_at: str | None
    resolved_at: str | None


class ProposalOut(_Snapshot):
    """An offer beyond the bot's limits, waiting for (or answered by) an agent."""

    id: int
    kind: str
    amount: str | None
    installment_count: int | None
    first_date: str | None
    reason: str | None
    status: str
    handoff_id: int | None
    created_at: str | None
    decided_at: str | None
    decided_by: str | None


class OptOutOut(_Snapshot):
    id: int
    channel: str
    address: str
    kind: str
    source: str
    created_at: str | None
    revoked_at: str | None


class IdentityLockOut(_Snapshot):
    id: int
    locked_at: str
    locked_until: str
    failures: int
    addresses: int


class LinkRequestOut(_Snapshot):
    id: int
    channel: str
    how: str
    created_at: str | None


class IdentityOut(_Snapshot):
    """Identity checks against the account: recent failures, a lock, channel links waiting for a decision."""

    failed_checks_24h: int
    addresses_24h: int
    lock: IdentityLockOut | None
    pending_link_requests: list[LinkRequestOut]


class AccountSnapshotOut(_Snapshot):
    ref: str
    currency: str
    amount_due: str
    fees: str | None
    paid_total: str
    waived: str
    balance: str
    due_date: str
    status: str
    days_past_due: int
    dpd_bucket: str
    segment: str | None
    virtual_account: str | None
    as_of: str
    debtor: DebtorOut
    promises: list[PromiseOut]
    plans: list[PlanOut]
    payments: list[PaymentRecordOut]
    claims: list[ClaimOut]
    handoffs: list[HandoffOut]
    proposals: list[ProposalOut]
    opt_outs: list[OptOutOut]
    identity: IdentityOut
