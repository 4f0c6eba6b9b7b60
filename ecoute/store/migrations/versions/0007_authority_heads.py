"""authority_heads: classifier heads refitted from an authority's corrections, and human
sentiment corrections of items

Heads used to be files under ``<cache>/heads/<slug>/``, which a second installation sharing
the cache and the slug picked up; in the database they belong to the installation that
trained them.

Revision ID: authority_heads
Revises: source_figures
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "authority_heads"
down_revision: str | None = "source_figures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authority_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("head", sa.LargeBinary(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["authority_id"], ["authority.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_authority_head_authority_task", "authority_head",
                    ["authority_id", "task", "id"])
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("human_sentiment", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("sentiment_corrected_by", sa.String(length=200),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.drop_column("sentiment_corrected_by")
        batch.drop_column("human_sentiment")
    op.drop_index("ix_authority_head_authority_task", table_name="authority_head")
    op.drop_table("authority_head")
