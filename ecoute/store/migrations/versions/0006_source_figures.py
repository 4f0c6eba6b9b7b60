"""source_figures: a source's own published figures (average rating, counts) over time

Revision ID: source_figures
Revises: source_removed
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "source_figures"
down_revision: str | None = "source_removed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "source_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rating_value", sa.Float(), nullable=False),
        sa.Column("worst_rating", sa.Float(), nullable=False),
        sa.Column("best_rating", sa.Float(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=True),
        sa.Column("review_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"],
                                name=op.f("fk_source_figure_source_id_source"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_figure")),
    )
    op.create_index("ix_source_figure_source_observed", "source_figure",
                    ["source_id", "observed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_source_figure_source_observed", table_name="source_figure")
    op.drop_table("source_figure")
