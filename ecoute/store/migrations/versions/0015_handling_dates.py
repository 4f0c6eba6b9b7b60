"""handling_dates: when a service request or complaint was received, first answered and
closed, as typed columns (they were only in ``extra``), for the response-time figures

Items already stored by the ``open311`` and ``complaint_log`` collectors are filled from the
``extra`` fields those collectors kept, with the rules they now apply (``ecoute.collectors.
open311`` and ``complaint_log``).

Revision ID: handling_dates
Revises: item_counts
Create Date: 2026-12-02
"""
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "handling_dates"
down_revision: str | None = "item_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Statuses of a complaint register that say it is closed (as in collectors.complaint_log).
CLOSED = {"clos", "close", "closed", "clôturé", "clôturée", "cloturé", "cloturée", "clôture",
          "résolu", "résolue", "resolu", "resolved", "terminé", "terminée", "done"}
CHUNK = 1000


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _dates(kind: str, published: datetime | None, extra: dict[str, Any]
           ) -> tuple[datetime | None, datetime | None, datetime | None]:
    if kind == "open311":
        received = _instant(extra.get("requested_datetime"))
        updated = _instant(extra.get("updated_datetime"))
        closed = updated if (extra.get("status") or "").lower() == "closed" else None
        answered = closed or (updated if extra.get("status_notes") else None)
        return received, answered, closed
    if not any(k in extra for k in ("status", "response_date", "response_date_raw")):
        return None, None, None  # a register that does not track handling
    answered = _instant(extra.get("response_date"))
    closed = answered if (extra.get("status") or "").strip().lower() in CLOSED else None
    return published, answered, closed


def upgrade() -> None:
    for name in ("received_at", "answered_at", "closed_at"):
        op.add_column("item", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_item_authority_received", "item", ["authority_id", "received_at"],
                    unique=False)
    bind = op.get_bind()
    item = sa.table("item", sa.column("id", sa.Integer), sa.column("source_id", sa.Integer),
                    sa.column("published_at", sa.DateTime(timezone=True)),
                    sa.column("extra", sa.JSON), sa.column("received_at", sa.DateTime(True)),
                    sa.column("answered_at", sa.DateTime(True)),
                    sa.column("closed_at", sa.DateTime(True)))
    source = sa.table("source", sa.column("id", sa.Integer), sa.column("kind", sa.String))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(item.c.id, source.c.kind, item.c.published_at, item.c.extra)
            .join(source, source.c.id == item.c.source_id)
            .where(source.c.kind.in_(["open311", "complaint_log"]), item.c.id > last)
            .order_by(item.c.id).limit(CHUNK)).all()
        if not rows:
            break
        last = rows[-1].id
        changes = []
        for row in rows:
            published = row.published_at
            if isinstance(published, datetime) and published.tzinfo is None:
                published = published.replace(tzinfo=UTC)  # SQLite gives naive UTC
            received, answered, closed = _dates(row.kind, published, row.extra or {})
            if received or answered or closed:
                changes.append({"item_id": row.id, "received": received,
                                "answered": answered, "closed": closed})
        if changes:
            bind.execute(
                item.update().where(item.c.id == sa.bindparam("item_id"))
                .values(received_at=sa.bindparam("received"),
                        answered_at=sa.bindparam("answered"), closed_at=sa.bindparam("closed")),
                changes)


def downgrade() -> None:
    op.drop_index("ix_item_authority_received", table_name="item")
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+): a batch copy of the table would lose the
    # item_count triggers.
    for name in ("closed_at", "answered_at", "received_at"):
        op.drop_column("item", name)
