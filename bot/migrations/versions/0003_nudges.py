"""Scheduled nudges (outbox of business-initiated messages), leases, versioned configuration.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nudges",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("debtor_id", sa.Integer(), sa.ForeignKey("debtors.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("cycle", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="SET NULL"), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("account_id", "stage", "cycle", name="uq_nudges_account_stage_cycle"),
        sa.CheckConstraint(
            "kind IN ('stage', 'promise_follow_up', 'installment_reminder')", name=op.f("ck_nudges_kind")
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'claimed', 'sent', 'skipped', 'failed')", name=op.f("ck_nudges_status")
        ),
    )
    op.create_index("ix_nudges_status_not_before", "nudges", ["status", "not_before"])
    op.create_index("ix_nudges_debtor_id_sent_at", "nudges", ["debtor_id", "sent_at"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "config_documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("kind", "version", name="uq_config_documents_kind_version"),
    )


def downgrade() -> None:
    op.drop_table("config_documents")
    op.drop_table("leases")
    op.drop_index("ix_nudges_debtor_id_sent_at", table_name="nudges")
    op.drop_index("ix_nudges_status_not_before", table_name="nudges")
    op.drop_table("nudges")
