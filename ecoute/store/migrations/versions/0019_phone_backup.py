"""phone_backup: overload detection state, phone overloads, back-up teams, volunteers,
activations and the volunteers' answers; calls waiting on call statistics

Revision ID: phone_backup
Revises: signin_attempts
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "phone_backup"
down_revision: str | None = "signin_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete)


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("call_stat") as batch:
        batch.add_column(sa.Column("waiting", sa.Integer(), nullable=True))
    op.create_table(
        "phone_overload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=200), nullable=False),
        _when("started_at", False), _when("calm_since"), _when("ended_at"),
        sa.Column("trigger", sa.JSON(), nullable=False),
        _fk("phone_overload", "authority_id", "authority", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_overload")),
    )
    op.create_index("ix_phone_overload_authority_start", "phone_overload",
                    ["authority_id", "started_at"], unique=False)
    op.create_table(
        "phone_queue_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=200), nullable=False),
        _when("evaluated_until"),
        sa.Column("overload_id", sa.Integer(), nullable=True),
        _when("calm_since"),
        _fk("phone_queue_state", "authority_id", "authority", "CASCADE"),
        _fk("phone_queue_state", "overload_id", "phone_overload", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_queue_state")),
        sa.UniqueConstraint("authority_id", "queue",
                            name=op.f("uq_phone_queue_state_authority_id")),
    )
    op.create_table(
        "backup_team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("queue", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        _when("created_at", False),
        _fk("backup_team", "authority_id", "authority", "CASCADE"),
        _fk("backup_team", "department_id", "department", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_team")),
        sa.UniqueConstraint("authority_id", "queue", name=op.f("uq_backup_team_authority_id")),
    )
    op.create_table(
        "volunteer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("availability", sa.JSON(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _when("created_at", False),
        _fk("volunteer", "authority_id", "authority", "CASCADE"),
        _fk("volunteer", "department_id", "department", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer")),
        sa.UniqueConstraint("authority_id", "email", name=op.f("uq_volunteer_authority_id")),
    )
    op.create_table(
        "backup_team_member",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        _fk("backup_team_member", "team_id", "backup_team", "CASCADE"),
        _fk("backup_team_member", "volunteer_id", "volunteer", "CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "volunteer_id", name=op.f("pk_backup_team_member")),
    )
    op.create_table(
        "backup_activation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("overload_id", sa.Integer(), nullable=False),
        _when("started_at", False), _when("ended_at"),
        _fk("backup_activation", "authority_id", "authority", "CASCADE"),
        _fk("backup_activation", "team_id", "backup_team", "CASCADE"),
        _fk("backup_activation", "overload_id", "phone_overload", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_activation")),
        sa.UniqueConstraint("overload_id", name=op.f("uq_backup_activation_overload_id")),
    )
    op.create_table(
        "backup_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activation_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("token_salt", sa.String(length=32), nullable=False),
        _when("notified_at"), _when("answered_at"), _when("started_at"), _when("ended_at"),
        sa.Column("declared_minutes", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _fk("backup_call", "activation_id", "backup_activation", "CASCADE"),
        _fk("backup_call", "volunteer_id", "volunteer", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_call")),
        sa.UniqueConstraint("activation_id", "volunteer_id",
                            name=op.f("uq_backup_call_activation_id")),
    )
    op.create_index(op.f("ix_backup_call_volunteer_id"), "backup_call", ["volunteer_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_backup_call_volunteer_id"), table_name="backup_call")
    for table in ("backup_call", "backup_activation", "backup_team_member", "volunteer",
                  "backup_team", "phone_queue_state"):
        op.drop_table(table)
    op.drop_index("ix_phone_overload_authority_start", table_name="phone_overload")
    op.drop_table("phone_overload")
    with op.batch_alter_table("call_stat") as batch:
        batch.drop_column("waiting")
