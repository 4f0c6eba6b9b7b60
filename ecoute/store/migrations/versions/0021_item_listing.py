"""item_listing: a never-null sort key for listing items, and the index that serves it

Items were listed newest first on ``published_at``, which is null for items without a date:
the cursor's ``OR published_at IS NULL`` and the ``NULLS LAST`` order kept both databases from
walking an index, so a page cost a scan of every item before it (700 ms at rank 900,000 on
SQLite) and on PostgreSQL every page sorted all the authority's items. ``sort_at`` is
``published_at``, or ``NO_DATE`` (the first instant of year 1, before any real date) for
items without one, so that "newest first, undated last" is one descending walk of
``(authority_id, sort_at, id)`` from the cursor.

New items get it from ``store.items.insert_items``; the column's server default only gives
existing rows a value while the column is added (SQLite cannot drop it afterwards without
rebuilding the table and its triggers; PostgreSQL drops it, so a writer forgetting the key
fails there instead of filing a dated item among the undated ones).

Revision ID: item_listing
Revises: rating_index
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "item_listing"
down_revision: str | None = "rating_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: ``store.models.NO_DATE`` as each database stores it (SQLite: the text SQLAlchemy writes).
NO_DATE = {"sqlite": "0001-01-01 00:00:00.000000", "postgresql": "0001-01-01 00:00:00+00"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # A constant default: both databases add the column without rewriting the table.
    op.add_column("item", sa.Column("sort_at", sa.DateTime(timezone=True), nullable=False,
                                    server_default=sa.text(f"'{NO_DATE[dialect]}'")))
    op.execute("UPDATE item SET sort_at = published_at WHERE published_at IS NOT NULL")
    if dialect == "postgresql":
        op.alter_column("item", "sort_at", server_default=None)
    op.create_index("ix_item_authority_sort", "item", ["authority_id", "sort_at", "id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_item_authority_sort", table_name="item")
    # SQLite drops a column in place (3.35+): a batch rebuild would lose the item triggers.
    op.drop_column("item", "sort_at")
