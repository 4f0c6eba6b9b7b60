"""purged_items: tombstones of items removed by retention or erasure, so that collecting the
same source again does not store them anew

Revision ID: purged_items
Revises: authority_heads
Create Date: 2026-12-01
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "purged_items"
down_revision: str | None = "authority_heads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "purged_item",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("external_key", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"],
                                name=op.f("fk_purged_item_source_id_source"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purged_item")),
        sa.UniqueConstraint("source_id", "external_key",
                            name=op.f("uq_purged_item_source_id")),
    )
    op.create_index("ix_purged_item_source_content_hash", "purged_item",
                    ["source_id", "content_hash"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_purged_item_source_content_hash", table_name="purged_item")
    op.drop_table("purged_item")
