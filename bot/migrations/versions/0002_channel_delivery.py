"""Channel delivery bookkeeping: inbound processing marker, outbound attempts, 'queued' state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "delivery_status IN ('received', 'sent', 'delivered', 'read', 'failed')"
NEW = "delivery_status IN ('received', 'queued', 'sent', 'delivered', 'read', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f("ck_messages_delivery_status"), type_="check")
        batch.create_check_constraint("delivery_status", NEW)
    # Everything stored before this revision was handled synchronously.
    op.execute("UPDATE messages SET processed_at = created_at WHERE direction = 'in'")


def downgrade() -> None:
    op.execute("UPDATE messages SET delivery_status = 'failed' WHERE delivery_status = 'queued'")
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(op.f("ck_messages_delivery_status"), type_="check")
        batch.create_check_constraint("delivery_status", OLD)
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
        batch.drop_column("processed_at")
