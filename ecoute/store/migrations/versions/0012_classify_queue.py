"""classify_queue: the pending-items poll reads indexes

An idle worker asked ``classified_version IS NULL OR classified_version != :v`` every few
seconds, which no index serves: a partial index holds the items never classified, and an
index on (authority, classified_version) gives the items a former model version tagged as
ranges (``store.items.pending_item_ids``). The single-column index it replaces served neither.

Revision ID: classify_queue
Revises: rollup_covering_index
Create Date: 2026-12-08
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "classify_queue"
down_revision: str | None = "rollup_covering_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNCLASSIFIED = sa.text("classified_version IS NULL")


def upgrade() -> None:
    op.drop_index("ix_item_classified_version", table_name="item")
    op.create_index("ix_item_authority_classified_version", "item",
                    ["authority_id", "classified_version"], unique=False)
    op.create_index("ix_item_unclassified", "item", ["authority_id", "id"], unique=False,
                    sqlite_where=UNCLASSIFIED, postgresql_where=UNCLASSIFIED)


def downgrade() -> None:
    op.drop_index("ix_item_unclassified", table_name="item",
                  sqlite_where=UNCLASSIFIED, postgresql_where=UNCLASSIFIED)
    op.drop_index("ix_item_authority_classified_version", table_name="item")
    op.create_index("ix_item_classified_version", "item", ["classified_version"], unique=False)
