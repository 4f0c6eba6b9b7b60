"""followup: routing rules, how each item got its department, follow-ups and their history

Revision ID: followup
Revises: alerts
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "followup"
down_revision: str | None = "alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "routing_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=24), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("determinant", sa.String(length=64), nullable=True),
        sa.Column("polarity", sa.String(length=24), nullable=True),
        sa.Column("lang", sa.String(length=16), nullable=True),
        sa.Column("keyword", sa.String(length=400), nullable=True),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["authority_id"], ["authority.id"],
                                name=op.f("fk_routing_rule_authority_id_authority"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"],
                                name=op.f("fk_routing_rule_department_id_department"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"],
                                name=op.f("fk_routing_rule_source_id_source"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"],
                                name=op.f("fk_routing_rule_site_id_site"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rule")),
    )
    op.create_index("ix_routing_rule_authority_position", "routing_rule",
                    ["authority_id", "position"], unique=False)
    op.create_table(
        "item_routing",
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("source_department_id", sa.Integer(), nullable=True),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"],
                                name=op.f("fk_item_routing_item_id_item"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_department_id"], ["department.id"],
                                name=op.f("fk_item_routing_source_department_id_department"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["rule_id"], ["routing_rule.id"],
                                name=op.f("fk_item_routing_rule_id_routing_rule"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_routing")),
    )
    op.create_table(
        "followup",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promise_days", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismissed_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"],
                                name=op.f("fk_followup_item_id_item"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["authority_id"], ["authority.id"],
                                name=op.f("fk_followup_authority_id_authority"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup")),
        sa.UniqueConstraint("item_id", name=op.f("uq_followup_item_id")),
    )
    op.create_index("ix_followup_authority_status", "followup", ["authority_id", "status"],
                    unique=False)
    op.create_table(
        "followup_event",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("followup_id", BIG_ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("old_value", sa.String(length=400), nullable=True),
        sa.Column("new_value", sa.String(length=400), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["followup_id"], ["followup.id"],
                                name=op.f("fk_followup_event_followup_id_followup"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_event")),
    )
    op.create_index(op.f("ix_followup_event_followup_id"), "followup_event", ["followup_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_followup_event_followup_id"), table_name="followup_event")
    op.drop_table("followup_event")
    op.drop_index("ix_followup_authority_status", table_name="followup")
    op.drop_table("followup")
    op.drop_table("item_routing")
    op.drop_index("ix_routing_rule_authority_position", table_name="routing_rule")
    op.drop_table("routing_rule")
