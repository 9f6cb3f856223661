"""The lender's own customer id on debtors (``debtors.customer_ref``), so an import can tell one
person with several accounts from a phone number that moved to someone else.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("debtors") as batch:
        batch.add_column(sa.Column("customer_ref", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_debtors_customer_ref"), ["customer_ref"])


def downgrade() -> None:
    with op.batch_alter_table("debtors") as batch:
        batch.drop_constraint(op.f("uq_debtors_customer_ref"), type_="unique")
        batch.drop_column("customer_ref")
