"""Phone queues as the overload detection sees them: each queue's intervals summed over its
sources, the detection's state per queue (``PhoneQueueState``) and the overloads it found
(``PhoneOverload``); the source that holds the figures a phone system pushes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoute.errors import SourceExists
from ecoute.store.call_stats import IntervalChanges, sort_intervals, write_intervals
from ecoute.store.models import CallStat, PhoneOverload, PhoneQueueState, Source
from ecoute.store.sources import add_source


@dataclass(frozen=True)
class QueueInterval:
    """One interval of a queue, all its sources summed; ``wait_sum`` and ``level_sum`` as in
    ``store.call_stats.CallSums`` (weighted by answered and offered calls)."""

    start: datetime
    minutes: int | None
    offered: int
    answered: int
    abandoned: int
    wait_sum: float
    wait_weight: int
    max_wait_seconds: float | None
    level_sum: float
    level_weight: int
    waiting: int | None


def queue_intervals(session: Session, authority_id: int, queue: str, start: datetime,
                    end: datetime | None = None) -> list[QueueInterval]:
    """The intervals of ``queue`` starting in [``start``, ``end``), in time order."""
    answered_waits = CallStat.avg_wait_seconds.is_not(None)
    with_level = CallStat.service_level.is_not(None)
    query = select(
        CallStat.interval_start, func.max(CallStat.interval_minutes),
        func.sum(CallStat.offered), func.sum(CallStat.answered), func.sum(CallStat.abandoned),
        func.sum(CallStat.avg_wait_seconds * CallStat.answered),
        func.sum(CallStat.answered).filter(answered_waits),
        func.max(CallStat.max_wait_seconds),
        func.sum(CallStat.service_level * CallStat.offered),
        func.sum(CallStat.offered).filter(with_level),
        func.sum(CallStat.waiting),
    ).where(CallStat.authority_id == authority_id, CallStat.queue == queue,
            CallStat.interval_start >= start)
    if end is not None:
        query = query.where(CallStat.interval_start < end)
    query = query.group_by(CallStat.interval_start).order_by(CallStat.interval_start)
    return [QueueInterval(
        start=row[0], minutes=row[1], offered=int(row[2] or 0), answered=int(row[3] or 0),
        abandoned=int(row[4] or 0), wait_sum=float(row[5] or 0), wait_weight=int(row[6] or 0),
        max_wait_seconds=float(row[7]) if row[7] is not None else None,
        level_sum=float(row[8] or 0), level_weight=int(row[9] or 0),
        waiting=int(row[10]) if row[10] is not None else None,
    ) for row in session.execute(query)]


def queues_with_figures(session: Session, authority_id: int, since: datetime) -> list[str]:
    """The queues of the authority with intervals starting from ``since``."""
    return list(session.scalars(
        select(CallStat.queue).where(CallStat.authority_id == authority_id,
                                     CallStat.interval_start >= since)
        .group_by(CallStat.queue).order_by(CallStat.queue)))


def queue_state(session: Session, authority_id: int, queue: str) -> PhoneQueueState:
    """The detection's state of a queue, created (not yet judged) on first use."""
    state = session.scalar(select(PhoneQueueState).where(
        PhoneQueueState.authority_id == authority_id, PhoneQueueState.queue == queue))
    if state is None:
        state = PhoneQueueState(authority_id=authority_id, queue=queue)
        session.add(state)
        session.flush()
    return state


def open_overload(session: Session, authority_id: int, queue: str, at: datetime,
                  trigger: dict[str, object]) -> PhoneOverload:
    overload = PhoneOverload(authority_id=authority_id, queue=queue, started_at=at,
                             trigger=trigger)
    session.add(overload)
    session.flush()
    return overload


def list_overloads(session: Session, authority_id: int, *, queue: str | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   active: bool | None = None) -> list[PhoneOverload]:
    """Overloads of the authority, oldest first: those still open or ended after ``since``
    and started before ``until``."""
    query = select(PhoneOverload).where(PhoneOverload.authority_id == authority_id)
    if queue is not None:
        query = query.where(PhoneOverload.queue == queue)
    if since is not None:
        query = query.where((PhoneOverload.ended_at.is_(None))
                            | (PhoneOverload.ended_at > since))
    if until is not None:
        query = query.where(PhoneOverload.started_at < until)
    if active is not None:
        query = query.where(PhoneOverload.ended_at.is_(None) if active
                            else PhoneOverload.ended_at.is_not(None))
    return list(session.scalars(query.order_by(PhoneOverload.started_at, PhoneOverload.id)))


def phone_push_source_id(session: Session, authority_id: int, key_prefix: str) -> int:
    """The source holding what a phone system pushes with this key, created on first use
    (a ``push`` source that never runs on a schedule: its figures come only by the API)."""
    name = f"phone {key_prefix}"
    query = select(Source.id).where(Source.authority_id == authority_id, Source.name == name)
    found = session.scalar(query)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            return add_source(session, authority_id, name=name, kind="push", options={},
                              schedule="manual").id
    except (IntegrityError, SourceExists):
        found = session.scalar(query)
        if found is None:
            raise
        return found


def write_pushed_intervals(session: Session, authority_id: int, key_prefix: str,
                           intervals: list[dict[str, Any]]) -> IntervalChanges:
    """Store intervals a phone system pushed with the key ``key_prefix`` (``CallStat``
    columns, aware datetimes), sorted like a collected batch: new, changed, repeated."""
    source_id = phone_push_source_id(session, authority_id, key_prefix)
    rows = [{**row, "authority_id": authority_id, "source_id": source_id,
             "interval_start": row["interval_start"].astimezone(timezone.utc),
             "site_id": None, "department_id": None, "extra": {"pushed_by": key_prefix}}
            for row in intervals]
    changes = sort_intervals(session, rows)
    write_intervals(session, [*changes.new, *changes.changed])
    return changes
