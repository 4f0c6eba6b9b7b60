"""Phone queue KPIs over a period: answer and abandon rates, average speed of answer,
service level, from the sums the store computes (``store.call_stats.call_sums``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ecoute.store.call_stats import CallSums, call_sums


@dataclass(frozen=True)
class CallFigures:
    """A queue's (or all queues') figures over a period.

    ``avg_wait_seconds`` is the mean of the intervals' average waits weighted by their answered
    calls (the ACD's average speed of answer); ``service_level`` the mean of the intervals'
    service levels weighted by their offered calls, over the intervals that report one.
    Rates and averages are None when there is nothing to divide by.
    """

    intervals: int
    offered: int
    answered: int
    abandoned: int
    abandon_rate: float | None
    answer_rate: float | None
    avg_wait_seconds: float | None
    max_wait_seconds: float | None
    service_level: float | None


def figures_of(sums: CallSums) -> CallFigures:
    """The rates and weighted averages of summed intervals."""
    offered = sums.offered
    return CallFigures(
        intervals=sums.intervals, offered=offered, answered=sums.answered,
        abandoned=sums.abandoned,
        abandon_rate=sums.abandoned / offered if offered else None,
        answer_rate=sums.answered / offered if offered else None,
        avg_wait_seconds=sums.wait_sum / sums.wait_weight if sums.wait_weight else None,
        max_wait_seconds=sums.max_wait_seconds,
        service_level=sums.level_sum / sums.level_weight if sums.level_weight else None,
    )


def call_stats(
    session: Session, authority_id: int, start: datetime, end: datetime,
    queue: str | None = None,
) -> CallFigures:
    """Figures of the intervals starting in [``start``, ``end``) of ``authority_id``'s
    phone queues (only ``queue`` when given)."""
    return figures_of(call_sums(session, authority_id, start, end, queue))
