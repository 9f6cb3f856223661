"""Debtors' offers beyond the bot's limits kept for agents (proposals, handoff reason ``proposal``),
and whether a debtor chose the conversation's language.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = (
    "reason IN ('request_human', 'dispute', 'fallback', 'identity_failed', 'final_notice', 'policy', "
    "'complaint', 'distress')"
)
NEW = (
    "reason IN ('request_human', 'dispute', 'fallback', 'identity_failed', 'final_notice', 'policy', "
    "'complaint', 'distress', 'proposal')"
)


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "conversation_id", sa.Integer(), sa.ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("handoff_id", sa.Integer(), sa.ForeignKey("handoffs.id", ondelete="SET NULL"), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("installment_count", sa.Integer(), nullable=True),
        sa.Column("first_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(254), nullable=True),
        sa.CheckConstraint("kind IN ('promise', 'installments')", name=op.f("ck_proposals_kind")),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'declined')", name=op.f("ck_proposals_status")),
    )
    op.create_index(op.f("ix_proposals_account_id"), "proposals", ["account_id"])
    op.create_index(op.f("ix_proposals_status"), "proposals", ["status"])
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_constraint(op.f("ck_handoffs_reason"), type_="check")
        batch.create_check_constraint("reason", NEW)
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("language_chosen", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("language_chosen")
    op.execute("UPDATE handoffs SET reason = 'policy' WHERE reason = 'proposal'")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_constraint(op.f("ck_handoffs_reason"), type_="check")
        batch.create_check_constraint("reason", OLD)
    op.drop_index(op.f("ix_proposals_status"), table_name="proposals")
    op.drop_index(op.f("ix_proposals_account_id"), table_name="proposals")
    op.drop_table("proposals")
