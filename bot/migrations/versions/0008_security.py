"""Security: identity attempts counted per account reference and address, identity challenges (what
the bot waits for, one-time codes as hashes), identity locks agents can clear, channel link requests
that need a decision, used deep-link tokens, and signed deliveries rejected for good.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "identity_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column(
            "conversation_id", sa.Integer(), sa.ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("ref_key", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("factor", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("reply", sa.String(24), nullable=False),
        sa.Column("wait_seconds", sa.Integer(), nullable=True),
        sa.Column("token", sa.String(64), nullable=True),
        sa.Column("consumed_at", WHEN, nullable=True),
        sa.UniqueConstraint("token", name=op.f("uq_identity_attempts_token")),
        sa.CheckConstraint("factor IN ('birth_date', 'code')", name=op.f("ck_identity_attempts_factor")),
        sa.CheckConstraint(
            "outcome IN ('verified', 'mismatch', 'code_sent', 'code_unavailable', 'expired', 'locked', 'throttled')",
            name=op.f("ck_identity_attempts_outcome"),
        ),
        sa.CheckConstraint(
            "reply IN ('verified', 'code_prompt', 'mismatch', 'code_mismatch', 'code_failed', 'expired', "
            "'throttled', 'locked')",
            name=op.f("ck_identity_attempts_reply"),
        ),
    )
    op.create_index(op.f("ix_identity_attempts_conversation_id"), "identity_attempts", ["conversation_id"])
    op.create_index(op.f("ix_identity_attempts_account_id"), "identity_attempts", ["account_id"])
    op.create_index("ix_identity_attempts_ref_key_at", "identity_attempts", ["ref_key", "at"])
    op.create_index("ix_identity_attempts_address_at", "identity_attempts", ["address", "at"])

    op.create_table(
        "identity_challenges",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "conversation_id", sa.Integer(), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("ref_key", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("code_hash", sa.String(128), nullable=True),
        sa.Column("destination", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.CheckConstraint("step IN ('birth_date', 'code')", name=op.f("ck_identity_challenges_step")),
    )
    op.create_index(op.f("ix_identity_challenges_conversation_id"), "identity_challenges", ["conversation_id"])

    op.create_table(
        "identity_locks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref_key", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("addresses", sa.JSON(), nullable=True),
        sa.Column("locked_at", WHEN, nullable=False),
        sa.Column("locked_until", WHEN, nullable=False),
        sa.Column("cleared_at", WHEN, nullable=True),
        sa.Column("cleared_by", sa.String(254), nullable=True),
    )
    op.create_index(op.f("ix_identity_locks_ref_key"), "identity_locks", ["ref_key"])
    op.create_index(op.f("ix_identity_locks_account_id"), "identity_locks", ["account_id"])

    op.create_table(
        "link_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("debtor_id", sa.Integer(), sa.ForeignKey("debtors.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("previous_address", sa.String(128), nullable=True),
        sa.Column(
            "conversation_id", sa.Integer(), sa.ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("how", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("decided_by", sa.String(254), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'expired')", name=op.f("ck_link_requests_status")
        ),
        sa.CheckConstraint("channel IN ('web', 'whatsapp', 'telegram')", name=op.f("ck_link_requests_channel")),
    )
    op.create_index(op.f("ix_link_requests_debtor_id"), "link_requests", ["debtor_id"])
    op.create_index(op.f("ix_link_requests_status"), "link_requests", ["status"])

    op.create_table(
        "used_link_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("used_at", WHEN, nullable=False),
    )

    op.create_table(
        "inbound_rejections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("body_size", sa.Integer(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=True),
        sa.Column("received_at", WHEN, nullable=False),
    )
    op.create_index(op.f("ix_inbound_rejections_received_at"), "inbound_rejections", ["received_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_inbound_rejections_received_at"), table_name="inbound_rejections")
    op.drop_table("inbound_rejections")
    op.drop_table("used_link_tokens")
    op.drop_index(op.f("ix_link_requests_status"), table_name="link_requests")
    op.drop_index(op.f("ix_link_requests_debtor_id"), table_name="link_requests")
    op.drop_table("link_requests")
    op.drop_index(op.f("ix_identity_locks_account_id"), table_name="identity_locks")
    op.drop_index(op.f("ix_identity_locks_ref_key"), table_name="identity_locks")
    op.drop_table("identity_locks")
    op.drop_index(op.f("ix_identity_challenges_conversation_id"), table_name="identity_challenges")
    op.drop_table("identity_challenges")
    op.drop_index("ix_identity_attempts_address_at", table_name="identity_attempts")
    op.drop_index("ix_identity_attempts_ref_key_at", table_name="identity_attempts")
    op.drop_index(op.f("ix_identity_attempts_account_id"), table_name="identity_attempts")
    op.drop_index(op.f("ix_identity_attempts_conversation_id"), table_name="identity_attempts")
    op.drop_table("identity_attempts")
