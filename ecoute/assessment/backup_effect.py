"""The effect of the back-up team, measured: waiting time and abandonment during the overloads
a volunteer helped with, against the overloads nobody helped with (no team, nobody available,
nobody accepted), over the same period.

An overload's figures are those of its queue's intervals from its detection to the start of
the calm that ended it: the time when volunteers could act. The two groups are summed the way
``assessment.calls`` sums a period (waits weighted by answered calls).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ecoute.assessment.calls import CallFigures, figures_of
from ecoute.assessment.phone import overload_windows
from ecoute.store.call_stats import CallSums, call_sums
from ecoute.store.phone import list_overloads
from ecoute.store.volunteers import helped_overloads

EMPTY = CallSums(intervals=0, offered=0, answered=0, abandoned=0, wait_sum=0.0, wait_weight=0,
                 max_wait_seconds=None, level_sum=0.0, level_weight=0)


@dataclass(frozen=True)
class OverloadGroup:
    overloads: int
    minutes: float
    figures: CallFigures


@dataclass(frozen=True)
class BackupEffect:
    helped: OverloadGroup
    alone: OverloadGroup
    #: helped − alone, None when a side has no figure.
    abandon_rate_difference: float | None
    avg_wait_difference_seconds: float | None


def _add(a: CallSums, b: CallSums) -> CallSums:
    waits = [w for w in (a.max_wait_seconds, b.max_wait_seconds) if w is not None]
    return CallSums(
        intervals=a.intervals + b.intervals, offered=a.offered + b.offered,
        answered=a.answered + b.answered, abandoned=a.abandoned + b.abandoned,
        wait_sum=a.wait_sum + b.wait_sum, wait_weight=a.wait_weight + b.wait_weight,
        max_wait_seconds=max(waits) if waits else None, level_sum=a.level_sum + b.level_sum,
        level_weight=a.level_weight + b.level_weight)


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def backup_effect(session: Session, authority_id: int, since: datetime, until: datetime,
                  now: datetime, queue: str | None = None) -> BackupEffect:
    """Overloads that started in [``since``, ``until``), of ``queue`` or all queues."""
    overloads = [o for o in list_overloads(session, authority_id, queue=queue, until=until)
                 if o.started_at >= since]
    helped_ids = helped_overloads(session, [o.id for o in overloads])
    sums = {True: EMPTY, False: EMPTY}
    counts = {True: 0, False: 0}
    minutes = {True: 0.0, False: 0.0}
    for overload, start, end in overload_windows(overloads, now):
        helped = overload.id in helped_ids
        counts[helped] += 1
        minutes[helped] += max(0.0, (end - start).total_seconds() / 60)
        sums[helped] = _add(sums[helped], call_sums(session, authority_id, start, end,
                                                    overload.queue))
    groups = {k: OverloadGroup(counts[k], round(minutes[k], 1), figures_of(sums[k]))
              for k in (True, False)}
    return BackupEffect(
        helped=groups[True], alone=groups[False],
        abandon_rate_difference=_difference(groups[True].figures.abandon_rate,
                                            groups[False].figures.abandon_rate),
        avg_wait_difference_seconds=_difference(groups[True].figures.avg_wait_seconds,
                                                groups[False].figures.avg_wait_seconds),
    )
