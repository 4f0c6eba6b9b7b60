"""signin_attempts: failed sign-ins, counted in the database by every worker process

Revision ID: signin_attempts
Revises: followup
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "signin_attempts"
down_revision: str | None = "followup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signin_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_failure")),
    )
    op.create_index("ix_signin_failure_subject_at", "signin_failure", ["subject", "at"],
                    unique=False)
    op.create_index(op.f("ix_signin_failure_at"), "signin_failure", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_signin_failure_at"), table_name="signin_failure")
    op.drop_index("ix_signin_failure_subject_at", table_name="signin_failure")
    op.drop_table("signin_failure")
