"""item_counts: items stored per source and channel, kept current as items come and go

``/metrics`` and the sources list counted the whole item table at every request (seconds at a
million items); the counters make it a read of a few rows. Items are inserted in one place
(``store.items.insert_items``, used by the runner), which adds what it inserts to the counters in
one statement per batch; deletions and moves happen in several places (retention, erasure,
source removal, foreign-key cascades), so triggers take them off, whoever deletes. An insert
trigger was measured at about 30 µs per row on SQLite (an empty one costs nearly as much on a
table this wide), three times the insert itself: hence the split.

Revision ID: item_counts
Revises: ingest_sources_manual
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "item_counts"
down_revision: str | None = "ingest_sources_manual"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = (
    """CREATE TRIGGER item_count_delete AFTER DELETE ON item BEGIN
        UPDATE item_count SET items = items - 1
        WHERE source_id = OLD.source_id AND channel = OLD.channel;
    END""",
    """CREATE TRIGGER item_count_move AFTER UPDATE OF source_id, channel ON item
    WHEN OLD.source_id IS NOT NEW.source_id OR OLD.channel IS NOT NEW.channel BEGIN
        UPDATE item_count SET items = items - 1
        WHERE source_id = OLD.source_id AND channel = OLD.channel;
        INSERT INTO item_count (source_id, channel, items) VALUES (NEW.source_id, NEW.channel, 1)
        ON CONFLICT (source_id, channel) DO UPDATE SET items = items + 1;
    END""",
)

POSTGRESQL_TRIGGERS = (
    """CREATE FUNCTION item_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE item_count SET items = items - 1
        WHERE source_id = OLD.source_id AND channel = OLD.channel;
        IF TG_OP = 'UPDATE' THEN
            INSERT INTO item_count (source_id, channel, items)
            VALUES (NEW.source_id, NEW.channel, 1)
            ON CONFLICT (source_id, channel) DO UPDATE SET items = item_count.items + 1;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER item_count_delete AFTER DELETE ON item
    FOR EACH ROW EXECUTE FUNCTION item_count_change()""",
    """CREATE TRIGGER item_count_move AFTER UPDATE OF source_id, channel ON item FOR EACH ROW
    WHEN (OLD.source_id IS DISTINCT FROM NEW.source_id OR OLD.channel IS DISTINCT FROM NEW.channel)
    EXECUTE FUNCTION item_count_change()""",
)


def upgrade() -> None:
    op.create_table(
        "item_count",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"],
                                name=op.f("fk_item_count_source_id_source"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("source_id", "channel", name=op.f("pk_item_count")),
    )
    op.execute("INSERT INTO item_count (source_id, channel, items) "
               "SELECT source_id, channel, count(*) FROM item GROUP BY source_id, channel")
    triggers = POSTGRESQL_TRIGGERS if op.get_bind().dialect.name == "postgresql" \
        else SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS item_count_move ON item")
        op.execute("DROP TRIGGER IF EXISTS item_count_delete ON item")
        op.execute("DROP FUNCTION IF EXISTS item_count_change()")
    else:
        for name in ("item_count_move", "item_count_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("item_count")
