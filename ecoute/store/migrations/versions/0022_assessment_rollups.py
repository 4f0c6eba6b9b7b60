"""assessment_rollups: satisfaction_rollup, the rollup keyed by one dimension at a time

Counts per day and per month for the whole authority and for each channel, site, department,
source and language, so that a satisfaction figure with one filter or one grouping reads a few
rows. Filled here from what exists: the whole authority, channels, sites and departments from
``daily_rollup`` (every figure it holds, those of items retention has since deleted included);
sources and languages from the classified items still stored, with the rules of
``ecoute.store.taggings`` (the item's day in its authority's time zone; per determinant the
polarity with the most confidence behind it among the tags that win).

Revision ID: assessment_rollups
Revises: item_listing
Create Date: 2026-11-30
"""
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "assessment_rollups"
down_revision: str | None = "item_listing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 2000
COUNTS = ("pos", "neg", "neu", "rating_sum", "rating_count")
OVERALL = "_overall"
KEPT = ("human", "audit")

rollup = sa.table(
    "satisfaction_rollup", sa.column("authority_id", sa.Integer), sa.column("grain", sa.String),
    sa.column("dimension", sa.String), sa.column("value", sa.String),
    sa.column("determinant", sa.String), sa.column("day", sa.Date),
    *(sa.column(name) for name in COUNTS))
item = sa.table(
    "item", sa.column("id", sa.Integer), sa.column("authority_id", sa.Integer),
    sa.column("source_id", sa.Integer), sa.column("lang", sa.String),
    sa.column("published_at", sa.DateTime()), sa.column("collected_at", sa.DateTime()),
    sa.column("classified_version", sa.String), sa.column("human_sentiment", sa.String),
    sa.column("rating_norm", sa.Float))
tagging = sa.table("tagging", sa.column("item_id", sa.Integer),
                   sa.column("model_version", sa.String), sa.column("sentiment", sa.String))
tag = sa.table("determinant_tag", sa.column("item_id", sa.Integer),
               sa.column("determinant", sa.String), sa.column("polarity", sa.String),
               sa.column("provenance", sa.String), sa.column("confidence", sa.Float))


def upgrade() -> None:
    op.create_table(
        "satisfaction_rollup",
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("determinant", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pos", sa.Integer(), nullable=False),
        sa.Column("neg", sa.Integer(), nullable=False),
        sa.Column("neu", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Float(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["authority_id"], ["authority.id"],
                                name=op.f("fk_satisfaction_rollup_authority_id_authority"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("authority_id", "grain", "dimension", "value", "determinant",
                                "day", name=op.f("pk_satisfaction_rollup")),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    _from_daily_rollup(bind)
    _from_items(bind)


def _from_daily_rollup(bind: sa.Connection) -> None:
    postgres = bind.dialect.name == "postgresql"
    month = "CAST(date_trunc('month', day) AS DATE)" if postgres else \
        "date(day, 'start of month')"
    dimensions = {"all": "''", "channel": "channel",
                  "site": "CAST(site_id AS VARCHAR(64))",
                  "department": "CAST(department_id AS VARCHAR(64))"}
    for dimension, value in dimensions.items():
        # PostgreSQL refuses a constant in GROUP BY: the whole authority groups by nothing more.
        group = "" if dimension == "all" else f", {value}"
        for grain, first in (("day", "day"), ("month", month)):
            bind.execute(sa.text(
                "INSERT INTO satisfaction_rollup (authority_id, grain, dimension, value, "
                "determinant, day, pos, neg, neu, rating_sum, rating_count) "
                f"SELECT authority_id, '{grain}', '{dimension}', {value}, determinant, "
                f"{first}, SUM(pos), SUM(neg), SUM(neu), SUM(rating_sum), SUM(rating_count) "
                f"FROM daily_rollup GROUP BY authority_id, determinant{group}, {first} "
                "HAVING SUM(pos) <> 0 OR SUM(neg) <> 0 OR SUM(neu) <> 0 "
                "OR SUM(rating_count) <> 0"))


def _polarities(tags: list[tuple[str, str, str, float]]) -> dict[str, str]:
    """As ``taggings.item_polarities`` over ``taggings.effective_tags``: per determinant, the
    first kept provenance present replaces the others; then the polarity with the most
    confidence."""
    best: dict[str, int] = {}
    for determinant, _polarity, provenance, _confidence in tags:
        if provenance in KEPT:
            best[determinant] = min(best.get(determinant, len(KEPT)), KEPT.index(provenance))
    weight: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for determinant, polarity, provenance, confidence in tags:
        if determinant in best and (provenance not in KEPT
                                    or KEPT.index(provenance) != best[determinant]):
            continue
        if polarity == "none":
            continue
        weight[determinant][polarity] += max(confidence or 0.0, 1e-6)
    return {d: max(w, key=w.__getitem__) for d, w in weight.items()}


def _local_day(when: datetime, zone: ZoneInfo) -> date:
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return aware.astimezone(zone).date()


def _from_items(bind: sa.Connection) -> None:
    zones = {row.id: ZoneInfo(row.timezone) for row in bind.execute(sa.text(
        "SELECT id, timezone FROM authority"))}
    last = 0
    while True:
        items = bind.execute(
            sa.select(item).where(item.c.id > last, item.c.classified_version.is_not(None))
            .order_by(item.c.id).limit(CHUNK)).all()
        if not items:
            return
        last = items[-1].id
        ids = [i.id for i in items]
        sentiments = {(t.item_id, t.model_version): t.sentiment for t in bind.execute(
            sa.select(tagging).where(tagging.c.item_id.in_(ids)))}
        tags: dict[int, list[tuple[str, str, str, float]]] = defaultdict(list)
        for t in bind.execute(sa.select(tag).where(tag.c.item_id.in_(ids))):
            tags[t.item_id].append((t.determinant, t.polarity, t.provenance, t.confidence))
        sums: dict[tuple[Any, ...], list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0])
        for i in items:
            sentiment = sentiments.get((i.id, i.classified_version))
            if sentiment is None:
                continue
            day = _local_day(i.published_at or i.collected_at, zones[i.authority_id])
            polarities = {OVERALL: i.human_sentiment or sentiment, **_polarities(tags[i.id])}
            for determinant, polarity in polarities.items():
                counts = [int(polarity == "positive"), int(polarity == "negative"),
                          int(polarity not in ("positive", "negative")), 0.0, 0]
                if determinant == OVERALL and i.rating_norm is not None:
                    counts[3:] = [i.rating_norm, 1]
                for dimension, value in (("source", str(i.source_id)), ("lang", i.lang or "")):
                    for grain, first in (("day", day), ("month", day.replace(day=1))):
                        acc = sums[(i.authority_id, grain, dimension, value, determinant,
                                    first)]
                        for n, count in enumerate(counts):
                            acc[n] += count
        _add(bind, sums)


def _add(bind: sa.Connection, sums: dict[tuple[Any, ...], list[float]]) -> None:
    """Adds to rows an earlier chunk may have made (a day's items span chunks)."""
    if not sums:
        return
    keys = ("authority_id", "grain", "dimension", "value", "determinant", "day")
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = insert(rollup)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: rollup.c[name] + stmt.excluded[name] for name in COUNTS})
    bind.execute(stmt, [{**dict(zip(keys, key, strict=True)),
                         **dict(zip(COUNTS, counts, strict=True))}
                        for key, counts in sorted(sums.items())])


def downgrade() -> None:
    op.drop_table("satisfaction_rollup")
