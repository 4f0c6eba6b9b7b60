"""alerts: alerts raised by the assessment (one active row per key), and the embeddings of
negative items that emerging-topic detection clusters

Revision ID: alerts
Revises: handling_dates
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "alerts"
down_revision: str | None = "handling_dates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["authority_id"], ["authority.id"],
                                name=op.f("fk_alert_authority_id_authority"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    op.create_index("ix_alert_authority_raised", "alert", ["authority_id", "raised_at"])
    # One active alert per key: the evaluations that find the same condition again update it.
    op.create_index("uq_alert_active_key", "alert", ["authority_id", "key"], unique=True,
                    sqlite_where=sa.text("resolved_at IS NULL"),
                    postgresql_where=sa.text("resolved_at IS NULL"))
    op.create_table(
        "item_embedding",
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"],
                                name=op.f("fk_item_embedding_item_id_item"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["authority_id"], ["authority.id"],
                                name=op.f("fk_item_embedding_authority_id_authority"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_embedding")),
    )
    op.create_index("ix_item_embedding_authority_day", "item_embedding",
                    ["authority_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_item_embedding_authority_day", table_name="item_embedding")
    op.drop_table("item_embedding")
    op.drop_index("uq_alert_active_key", table_name="alert")
    op.drop_index("ix_alert_authority_raised", table_name="alert")
    op.drop_table("alert")
