"""Handoffs for a complaint about collection conduct and for a debtor in distress.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "reason IN ('request_human', 'dispute', 'fallback', 'identity_failed', 'final_notice', 'policy')"
NEW = (
    "reason IN ('request_human', 'dispute', 'fallback', 'identity_failed', 'final_notice', 'policy', "
    "'complaint', 'distress')"
)


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_constraint(op.f("ck_handoffs_reason"), type_="check")
        batch.create_check_constraint("reason", NEW)


def downgrade() -> None:
    op.execute("UPDATE handoffs SET reason = 'request_human' WHERE reason IN ('complaint', 'distress')")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_constraint(op.f("ck_handoffs_reason"), type_="check")
        batch.create_check_constraint("reason", OLD)
