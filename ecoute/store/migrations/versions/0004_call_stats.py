"""call_stats: phone queue figures per interval from ACD exports (call_log sources)

Revision ID: call_stats
Revises: api_keys
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "call_stats"
down_revision: str | None = "api_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_stat",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=200), nullable=False),
        sa.Column("interval_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=True),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("avg_wait_seconds", sa.Float(), nullable=True),
        sa.Column("max_wait_seconds", sa.Float(), nullable=True),
        sa.Column("service_level", sa.Float(), nullable=True),
        sa.Column("service_level_seconds", sa.Integer(), nullable=True),
        sa.Column("agents", sa.Float(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["authority_id"], ["authority.id"],
                                name=op.f("fk_call_stat_authority_id_authority"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"],
                                name=op.f("fk_call_stat_source_id_source"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"],
                                name=op.f("fk_call_stat_site_id_site"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"],
                                name=op.f("fk_call_stat_department_id_department"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_stat")),
        sa.UniqueConstraint("source_id", "queue", "interval_start", name="uq_call_stat_key"),
    )
    op.create_index("ix_call_stat_authority_start", "call_stat",
                    ["authority_id", "interval_start"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_call_stat_authority_start", table_name="call_stat")
    op.drop_table("call_stat")
