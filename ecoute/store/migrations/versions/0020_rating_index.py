"""rating_index: the rating figures read rated items of a period from an index

The ratings of a window (mean, CSAT share, NPS per scale) are counted from the items that carry
a rating scale, dated like the rollups (published, else collected). A partial index holds only
those items, in date order, with the scale, the answer and the filtered columns: the figures of
a window read that slice of the index and never the item table (benchmarks/bench_ratings.py).
A second one holds them in answer order, for long periods read whole.

Revision ID: rating_index
Revises: phone_backup
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rating_index"
down_revision: str | None = "phone_backup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATED = sa.text("rating_scale IS NOT NULL")
#: Only the long periods' query states it, so short ones never choose this index over their
#: ranges (SQLite's planner, without statistics, prefers an index that spares a sort).
NORMALISED = sa.text("rating_norm IS NOT NULL")
# The filters (channel, site, department, source) too: without them a filtered window looked
# up each rated item in the table, 25 times slower at a million items.
COLUMNS = ["authority_id", "published_at", "collected_at", "rating_scale", "rating_value",
           "rating_norm", "channel", "site_id", "department_id", "source_id"]
#: The same in answer order: a long period reads it whole, already grouped by answer, instead of
#: sorting most rated items (a year against the year before: 5 times faster on SQLite).
ANSWER_COLUMNS = ["authority_id", "rating_scale", "rating_value", "rating_norm", "published_at",
                  "collected_at", "channel", "site_id", "department_id", "source_id"]


def upgrade() -> None:
    op.create_index("ix_item_rated", "item", COLUMNS, unique=False,
                    sqlite_where=RATED, postgresql_where=RATED)
    op.create_index("ix_item_rated_answers", "item", ANSWER_COLUMNS, unique=False,
                    sqlite_where=NORMALISED, postgresql_where=NORMALISED)


def downgrade() -> None:
    op.drop_index("ix_item_rated_answers", table_name="item", sqlite_where=NORMALISED,
                  postgresql_where=NORMALISED)
    op.drop_index("ix_item_rated", table_name="item", sqlite_where=RATED,
                  postgresql_where=RATED)
