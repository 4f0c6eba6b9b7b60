"""scheduling: source leases and run requests, scheduler job store

Revision ID: scheduling
Revises: 0001
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "scheduling"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain add_column (no batch copy): the columns are nullable, which SQLite allows.
    op.add_column("source", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("source", sa.Column("claimed_by", sa.String(length=200), nullable=True))
    op.add_column("source", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    # Exactly the table APScheduler's SQLAlchemyJobStore describes; its own create_all is
    # switched off in ecoute.scheduler.leader so that migrations stay the only schema authority.
    op.create_table(
        "scheduler_job",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_job")),
    )
    op.create_index(
        op.f("ix_scheduler_job_next_run_time"), "scheduler_job", ["next_run_time"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_scheduler_job_next_run_time"), table_name="scheduler_job")
    op.drop_table("scheduler_job")
    with op.batch_alter_table("source") as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("due_at")
