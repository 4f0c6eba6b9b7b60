"""``SatisfactionRollup``: the rollup rows keyed by one dimension, written and read.

:func:`dimension_rows` turns the rollup delta of a change (what ``store.taggings`` computes per
day, determinant, channel, site, department, source and language) into the rows of every
dimension at the day and the month grain; the same upsert adds them in the same transaction
as ``DailyRollup``'s. The readers sum those rows over spans of days and months.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Row, String, func, literal, select, union_all
from sqlalchemy.orm import Session

from ecoute.store.models import Department, SatisfactionRollup, Site, Source

#: What a satisfaction figure can be restricted to, or grouped by.
DIMENSIONS = ("channel", "site", "department", "source", "lang")
#: The dimension of the rows for the whole authority (their value is "").
ALL = "all"
DAY = "day"
MONTH = "month"
KEY = ("authority_id", "grain", "dimension", "value", "determinant", "day")
COUNTS = ("pos", "neg", "neu", "rating_sum", "rating_count")


class RollupCounts(Protocol):
    pos: int
    neg: int
    neu: int
    rating_sum: float
    rating_count: int


def dimension_rows(delta: Mapping[tuple[Any, ...], RollupCounts]) -> list[dict[str, Any]]:
    """The ``SatisfactionRollup`` rows of a delta keyed (authority, day, determinant, channel,
    site, department, source, language), summed per key, in key order (so that concurrent
    writers lock rows in the same order)."""
    sums: dict[tuple[Any, ...], list[Any]] = {}
    for (authority_id, day, determinant, channel, site_id, department_id, source_id,
         lang), c in delta.items():
        if not (c.pos or c.neg or c.neu or c.rating_count):
            continue
        counts = (c.pos, c.neg, c.neu, c.rating_sum, c.rating_count)
        month = day.replace(day=1)
        # The whole authority, then each dimension this contribution counts in.
        for dimension, value in ((ALL, ""), ("channel", channel), ("site", str(site_id)),
                                 ("department", str(department_id)),
                                 ("source", str(source_id)), ("lang", lang)):
            for key in ((authority_id, DAY, dimension, value, determinant, day),
                        (authority_id, MONTH, dimension, value, determinant, month)):
                row = sums.get(key)
                if row is None:
                    sums[key] = list(counts)
                else:
                    for i in range(5):
                        row[i] += counts[i]
    return [
        {"authority_id": key[0], "grain": key[1], "dimension": key[2], "value": key[3],
         "determinant": key[4], "day": key[5], "pos": s[0], "neg": s[1], "neu": s[2],
         "rating_sum": float(s[3]), "rating_count": s[4]}
        for key, s in sorted(sums.items())
        if s[0] or s[1] or s[2] or s[4]
    ]


@dataclass(frozen=True)
class Span:
    """Days ``first``..``last`` read from rows of ``grain`` (month rows: ``first`` and
    ``last`` are firsts of months)."""

    grain: str
    first: date
    last: date


def _query(authority_id: int, dimension: str, values: Sequence[str],
           determinants: Sequence[str], span: Span, label: str | None = None) -> Any:
    r = SatisfactionRollup
    columns: list[Any] = [r.value, r.determinant, r.day, r.pos, r.neg, r.neu, r.rating_sum,
                          r.rating_count]
    if label is not None:
        columns.insert(0, literal(label, String).label("label"))
    # Every key column before ``day`` is named by = or IN, so both databases seek straight
    # to each (value, determinant)'s range of days instead of scanning the dimension.
    return select(*columns).where(
        r.authority_id == authority_id, r.grain == span.grain, r.dimension == dimension,
        r.value.in_(values), r.determinant.in_(determinants),
        r.day >= span.first, r.day <= span.last)


def rollup_rows(session: Session, authority_id: int, dimension: str, values: Sequence[str],
                determinants: Sequence[str], spans: Iterable[Span]) -> list[Row[Any]]:
    """The rows (value, determinant, day, pos, neg, neu, rating_sum, rating_count) of the
    spans, as stored: a series groups them by its buckets."""
    rows: list[Row[Any]] = []
    for span in spans:
        if span.first <= span.last and values and determinants:
            rows.extend(session.execute(
                _query(authority_id, dimension, values, determinants, span)))
    return rows


def rollup_sums(session: Session, authority_id: int, dimension: str, values: Sequence[str],
                determinants: Sequence[str], spans: Iterable[Span]
                ) -> dict[tuple[str, str], tuple[int, int, int, float, int]]:
    """pos, neg, neu, rating_sum, rating_count per (value, determinant) over the spans."""
    found = labelled_sums(session, authority_id, dimension, values, determinants,
                          [("", span) for span in spans])
    return {(value, det): counts for (_label, value, det), counts in found.items()}


def labelled_sums(session: Session, authority_id: int, dimension: str, values: Sequence[str],
                  determinants: Sequence[str], spans: Sequence[tuple[str, Span]]
                  ) -> dict[tuple[str, str, str], tuple[int, int, int, float, int]]:
    """The sums per (label, value, determinant), the spans of one label added together:
    several windows (a figure's, the previous one, a year before) in one round trip."""
    parts = [_query(authority_id, dimension, values, determinants, span, label)
             for label, span in spans if span.first <= span.last] if values and determinants \
        else []
    if not parts:
        return {}
    rows = union_all(*parts).subquery()
    query = select(rows.c.label, rows.c.value, rows.c.determinant, func.sum(rows.c.pos),
                   func.sum(rows.c.neg), func.sum(rows.c.neu), func.sum(rows.c.rating_sum),
                   func.sum(rows.c.rating_count)
                   ).group_by(rows.c.label, rows.c.value, rows.c.determinant)
    return {(label, value, det): (int(p or 0), int(n or 0), int(u or 0), float(rs or 0.0),
                                  int(rc or 0))
            for label, value, det, p, n, u, rs, rc in session.execute(query)}


def values_seen(session: Session, authority_id: int, dimension: str) -> list[str]:
    """Every value of ``dimension`` with counts for the authority (read from the month rows,
    which hold every value any day has)."""
    r = SatisfactionRollup
    return list(session.scalars(
        select(r.value).where(r.authority_id == authority_id, r.grain == MONTH,
                              r.dimension == dimension).distinct().order_by(r.value)))


def value_labels(session: Session, authority_id: int, dimension: str) -> dict[str, str]:
    """What to call each value of a dimension: the names of the authority's sites,
    departments or sources by id (as text); channels and languages are their own names."""
    models: dict[str, type[Site] | type[Department] | type[Source]] = {
        "site": Site, "department": Department, "source": Source}
    model = models.get(dimension)
    if model is None:
        return {}
    return {str(i): name for i, name in session.execute(
        select(model.id, model.name).where(model.authority_id == authority_id))}
