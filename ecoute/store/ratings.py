"""Rated items of a period, counted per scale and answer: what the rating figures (mean,
CSAT share, Net Promoter Score) are computed from.

Ratings are read from the items themselves, not from the rollups: a CSAT share or an NPS needs
the distribution of answers per scale, which the rollups' rating sums do not keep. The partial
index ``ix_item_rated`` holds only rated items, so a window reads a slice of it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ecoute.store.models import Item

#: Beyond this period, the figures read every rated item of the authority in answer order
#: rather than the period's in date order (benchmarks/bench_ratings.py: about where the two
#: cost the same with two years of history).
LONG_PERIOD = timedelta(days=120)


@dataclass(frozen=True)
class RatingFilters:
    channel: str | None = None
    site_id: int | None = None
    department_id: int | None = None
    source_id: int | None = None


@dataclass(frozen=True)
class RatingCount:
    """How many items of the period gave ``value`` (``norm`` on 0..1) on ``scale``."""

    scale: str
    value: float | None
    norm: float | None
    count: int


def rating_counts(
    session: Session, authority_id: int, start: datetime, end: datetime,
    filters: RatingFilters = RatingFilters(),
) -> list[RatingCount]:
    """The authority's rated items (a scale and a normalised answer) dated in ``start``
    (inclusive) .. ``end`` (exclusive), counted per scale, answer and normalised answer.

    An item is dated by its publication, else its collection, as in the rollups. Over a period
    up to ``LONG_PERIOD`` the two cases are two queries, so that each reads a range of
    ``ix_item_rated`` (a condition on ``coalesce(published_at, collected_at)`` cannot); over a
    longer one, one query reads ``ix_item_rated_answers`` whole."""
    common: list[ColumnElement[bool]] = [
        Item.authority_id == authority_id, Item.rating_scale.is_not(None),
    ]
    if filters.channel:
        common.append(Item.channel == filters.channel)
    if filters.site_id is not None:
        common.append(Item.site_id == filters.site_id)
    if filters.department_id is not None:
        common.append(Item.department_id == filters.department_id)
    if filters.source_id is not None:
        common.append(Item.source_id == filters.source_id)
    grouped = (Item.rating_scale, Item.rating_value, Item.rating_norm)
    if end - start > LONG_PERIOD:
        # Most rated items are in the period: reading ix_item_rated_answers whole, in answer
        # order, costs less than sorting the period's items by answer.
        dated = func.coalesce(Item.published_at, Item.collected_at)
        periods = [[Item.rating_norm.is_not(None), dated >= start, dated < end]]
    else:
        periods = [[Item.published_at >= start, Item.published_at < end],
                   [Item.published_at.is_(None), Item.collected_at >= start,
                    Item.collected_at < end]]
    counts: Counter[tuple[str, float | None, float | None]] = Counter()
    for period in periods:
        query = select(*grouped, func.count()).where(*common, *period).group_by(*grouped)
        for scale, value, norm, n in session.execute(query):
            if norm is not None:  # the same answers on both paths
                counts[(str(scale), value, norm)] += int(n)
    return [RatingCount(scale, value, norm, n)
            for (scale, value, norm), n in sorted(counts.items(), key=_order)]


def _order(entry: tuple[tuple[str, float | None, float | None], int]) -> tuple[str, float, float]:
    (scale, value, norm), _n = entry
    return (scale, -1.0 if value is None else value, -1.0 if norm is None else norm)
