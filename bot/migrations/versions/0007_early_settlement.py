"""Early settlement: promises to settle at a discount, and what was waived on the account.

A ``settlement`` promise is a promise to pay the discounted amount in full by its date (the collection
policy's early-settlement offer); when it is kept, the rest of the balance is waived
(``accounts.waived``) and the account is paid.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "kind IN ('promise', 'extension')"
NEW = "kind IN ('promise', 'extension', 'settlement')"


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("waived", sa.BigInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("promises") as batch:
        batch.drop_constraint(op.f("ck_promises_kind"), type_="check")
        batch.create_check_constraint("kind", NEW)


def downgrade() -> None:
    op.execute("UPDATE promises SET kind = 'promise' WHERE kind = 'settlement'")
    with op.batch_alter_table("promises") as batch:
        batch.drop_constraint(op.f("ck_promises_kind"), type_="check")
        batch.create_check_constraint("kind", OLD)
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("waived")
