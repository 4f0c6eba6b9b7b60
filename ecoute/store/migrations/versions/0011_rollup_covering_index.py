"""rollup_covering_index: the rollups' index by authority and day also holds the counts, so
that figures over a window are summed from the index alone

Revision ID: rollup_covering_index
Revises: users
Create Date: 2026-12-02
"""
from collections.abc import Sequence

from alembic import op

revision: str = "rollup_covering_index"
down_revision: str | None = "users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["authority_id", "day", "determinant", "channel", "site_id", "department_id", "pos",
           "neg", "neu", "rating_sum", "rating_count"]


def upgrade() -> None:
    op.create_index("ix_daily_rollup_authority_day_counts", "daily_rollup", COLUMNS,
                    unique=False)
    # Its first two columns: the old index has nothing left to do.
    op.drop_index("ix_daily_rollup_authority_day", table_name="daily_rollup")


def downgrade() -> None:
    op.create_index("ix_daily_rollup_authority_day", "daily_rollup", ["authority_id", "day"],
                    unique=False)
    op.drop_index("ix_daily_rollup_authority_day_counts", table_name="daily_rollup")
