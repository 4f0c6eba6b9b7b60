"""Satisfaction as a series of days, ISO weeks or calendar months."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoute.assessment.satisfaction import (
    DeterminantFigure,
    Filters,
    check_combinable,
    figure,
)
from ecoute.assessment.windows import Window, period_end, period_start, spans
from ecoute.domain import DETERMINANTS, OVERALL
from ecoute.errors import InvalidRequest
from ecoute.store.models import Authority, DailyRollup
from ecoute.store.rollups import ALL, DAY, Span, rollup_rows

GRANULARITIES = ("day", "week", "month")


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date  # the window's end for the last bucket, which may not be whole yet
    figure: DeterminantFigure


def _bucket(granularity: str, day: date) -> date:
    return day if granularity == "day" else period_start(granularity, day)


def _daily_rollup_days(session: Session, authority: Authority, window: Window,
                       filters: Filters, determinant: str) -> list[tuple[date, int, int, int]]:
    # Two or more filters: only DailyRollup's key holds them together (sums_by refuses the
    # combinations it does not hold).
    check_combinable(filters)
    r = DailyRollup
    query = select(r.day, func.sum(r.pos), func.sum(r.neg), func.sum(r.neu)).where(
        r.authority_id == authority.id, r.determinant == determinant,
        r.day >= window.start, r.day <= window.end).group_by(r.day)
    if filters.channel is not None:
        query = query.where(r.channel == filters.channel)
    if filters.site_id is not None:
        query = query.where(r.site_id == filters.site_id)
    if filters.department_id is not None:
        query = query.where(r.department_id == filters.department_id)
    return [(d, int(p or 0), int(n or 0), int(u or 0)) for d, p, n, u in session.execute(query)]


def timeseries(session: Session, authority: Authority, window: Window, granularity: str, *,
               determinant: str = OVERALL, min_sample_size: int = 30,
               filters: Filters = Filters()) -> list[Bucket]:
    """One figure per day, ISO week or month of ``window``, oldest first. The first bucket
    starts at the start of its week or month, so that every bucket but the current one is
    whole; buckets without a mention are there too (n = 0)."""
    if granularity not in GRANULARITIES:
        raise InvalidRequest(f"granularity {granularity!r} is not understood",
                             hint=f"use one of {', '.join(GRANULARITIES)}")
    if determinant not in (OVERALL, *DETERMINANTS):
        raise InvalidRequest(f"determinant {determinant!r} is not known",
                             hint=f"use one of {', '.join(DETERMINANTS)}, or none for all")
    window = replace(window, start=_bucket(granularity, window.start))
    chosen = filters.dimensions()
    if len(chosen) > 1:
        rows = _daily_rollup_days(session, authority, window, filters, determinant)
    else:
        dimension, value = next(iter(chosen.items())) if chosen else (ALL, "")
        # Month rows only serve months; days and weeks read day rows.
        read = spans(window) if granularity == "month" else \
            [Span(DAY, window.start, window.end)]
        rows = [(row.day, row.pos, row.neg, row.neu) for row in rollup_rows(
            session, authority.id, dimension, [value], [determinant], read)]
    counts: dict[date, list[int]] = {}
    for day, pos, neg, neu in rows:
        acc = counts.setdefault(_bucket(granularity, day), [0, 0, 0])
        acc[0] += pos
        acc[1] += neg
        acc[2] += neu
    buckets = []
    start = window.start
    while start <= window.end:
        end = start if granularity == "day" else min(period_end(granularity, start), window.end)
        pos, neg, neu = counts.get(start, [0, 0, 0])
        buckets.append(Bucket(start, end, figure(determinant, pos, neg, neu, min_sample_size)))
        start = end + timedelta(days=1)
    return buckets
