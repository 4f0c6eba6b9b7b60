"""ingest_sources_manual: push sources created by the ingest API are collected only by it

They read a spool folder once a day, where the ingest API wrote each request's records
before running them; records now go straight to the runner, so those sources lose the folder
and run only when records come. Push sources people created to read their own files keep
their path and schedule.

Revision ID: ingest_sources_manual
Revises: classify_queue
Create Date: 2026-12-08
"""
from collections.abc import Sequence
from pathlib import PurePath

import sqlalchemy as sa
from alembic import op

revision: str = "ingest_sources_manual"
down_revision: str | None = "classify_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The schedule push sources were given before they became manual.
FORMER_PUSH_SCHEDULE = "every 1 day"


def upgrade() -> None:
    """The ingest API's sources are named ``push <key prefix>`` and read
    ``.../spool/<authority>/<key prefix>``."""
    source = sa.table("source", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                      sa.column("name", sa.String), sa.column("options", sa.JSON),
                      sa.column("schedule", sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(source.c.id, source.c.name, source.c.options,
                                  source.c.schedule).where(source.c.kind == "push")).all()
    for source_id, name, options, schedule in rows:
        path = (options or {}).get("path")
        if not (name.startswith("push ") and isinstance(path, str)
                and PurePath(path).parts[-3:-2] == ("spool",)
                and PurePath(path).name == name.removeprefix("push ")):
            continue
        kept = {key: value for key, value in options.items() if key != "path"}
        bind.execute(sa.update(source).where(source.c.id == source_id).values(
            options=kept,
            schedule="manual" if schedule == FORMER_PUSH_SCHEDULE else schedule))


def downgrade() -> None:
    # Not undone: the spool folders (empty: each file was removed once stored) are not known
    # here; an older ecoute needs the `path` option of those sources set again.
    pass
