"""Model management: background training jobs and the history of activated models.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'queued', 'validating', 'training', 'evaluating', 'succeeded', 'failed', 'cancelled'"


def upgrade() -> None:
    op.create_table(
        "training_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(200), nullable=False),
        sa.Column("log_tail", sa.Text(), nullable=False),
        sa.Column("model_name", sa.String(100), nullable=True),
        sa.Column("config_override", sa.JSON(), nullable=True),
        sa.Column("validation_output", sa.Text(), nullable=True),
        sa.Column("evaluation", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("runner", sa.String(200), nullable=True),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_training_jobs_status")),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name=op.f("ck_training_jobs_progress")),
    )
    op.create_index(op.f("ix_training_jobs_status"), "training_jobs", ["status"])
    op.create_index(op.f("ix_training_jobs_model_name"), "training_jobs", ["model_name"])
    op.create_table(
        "model_activations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model_name", sa.String(100), nullable=False),
        sa.Column("previous_model", sa.String(100), nullable=True),
        sa.Column("activated_by", sa.String(254), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("model_activations")
    op.drop_index(op.f("ix_training_jobs_model_name"), table_name="training_jobs")
    op.drop_index(op.f("ix_training_jobs_status"), table_name="training_jobs")
    op.drop_table("training_jobs")
