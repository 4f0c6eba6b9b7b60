"""Phone queue figures (``CallStat``): writing a call_log batch and summing what the KPIs
are computed from (``ecoute.assessment.calls``).

A row is keyed by (source, queue, interval start). Writing compares each incoming interval
with the stored one first, so a run can say what was new, what a corrected export changed and
what it merely repeated; the write itself is an upsert, so two runs racing on the same export
cannot collide on the unique key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ecoute.store.models import CallStat, utcnow

#: Columns a re-export may correct; equal values on all of them make a duplicate (``extra``,
#: which says which file and line the figures came from, follows them but is not compared).
FIGURES = ("interval_minutes", "offered", "answered", "abandoned", "avg_wait_seconds",
           "max_wait_seconds", "service_level", "service_level_seconds", "agents", "waiting", "site_id",
           "department_id")
KEY = ("source_id", "queue", "interval_start")


@dataclass
class IntervalChanges:
    """An incoming batch of call intervals sorted against the store."""

    new: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    duplicate: int


def _key(row: dict[str, Any]) -> tuple[int, str, datetime]:
    return row["source_id"], row["queue"], row["interval_start"]


def sort_intervals(session: Session, rows: Sequence[dict[str, Any]]) -> IntervalChanges:
    """Which ``rows`` (CallStat column dicts) are new, which change a stored interval, and how
    many repeat one unchanged. Within a batch, a later row for the same key wins."""
    latest: dict[tuple[int, str, datetime], dict[str, Any]] = {}
    duplicate = 0
    for row in rows:
        key = _key(row)
        if key in latest:
            duplicate += 1  # the same interval twice in one batch: counted once, last wins
        latest[key] = row
    stored: dict[tuple[int, str, datetime], dict[str, Any]] = {}
    keys = list(latest)
    for start in range(0, len(keys), 300):  # keeps the IN list under SQLite's variable limit
        chunk = keys[start : start + 300]
        query = select(CallStat).where(
            tuple_(CallStat.source_id, CallStat.queue, CallStat.interval_start).in_(chunk))
        for stat in session.scalars(query):
            stored[(stat.source_id, stat.queue, stat.interval_start)] = {
                name: getattr(stat, name) for name in FIGURES}
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for key, row in latest.items():
        before = stored.get(key)
        if before is None:
            new.append(row)
        elif any(before[name] != row.get(name) for name in FIGURES):
            changed.append(row)
        else:
            duplicate += 1
    return IntervalChanges(new=new, changed=changed, duplicate=duplicate)


def write_intervals(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or update ``rows`` (CallStat column dicts) by their key."""
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    stmt = insert(CallStat)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(KEY),
        set_={**{name: stmt.excluded[name] for name in (*FIGURES, "extra")}, "updated_at": now},
    )
    # One executemany for the batch (rows are unique by key: sort_intervals kept the last).
    session.execute(stmt, [{**row, "collected_at": now, "updated_at": None} for row in rows])


@dataclass(frozen=True)
class CallSums:
    """A queue's (or all queues') intervals over a period, summed: what rates and averages
    are computed from (``ecoute.assessment.calls``). ``wait_sum`` is the sum of each
    interval's average wait times its answered calls, over the intervals that report a wait
    (``wait_weight`` answered calls); ``level_sum`` the sum of each service level times its
    offered calls, over the intervals that report one (``level_weight`` offered calls)."""

    intervals: int
    offered: int
    answered: int
    abandoned: int
    wait_sum: float
    wait_weight: int
    max_wait_seconds: float | None
    level_sum: float
    level_weight: int


def call_sums(
    session: Session, authority_id: int, start: datetime, end: datetime,
    queue: str | None = None, *, department_id: int | None = None,
    site_id: int | None = None, source_id: int | None = None,
) -> CallSums:
    """The sums over the intervals starting in [``start``, ``end``) of ``authority_id``'s
    phone queues (only ``queue``, or the intervals of one department, site or source, when
    given), computed in the database."""
    answered_waits = CallStat.avg_wait_seconds.is_not(None)
    with_level = CallStat.service_level.is_not(None)
    query = select(
        func.count(CallStat.id),
        func.coalesce(func.sum(CallStat.offered), 0),
        func.coalesce(func.sum(CallStat.answered), 0),
        func.coalesce(func.sum(CallStat.abandoned), 0),
        func.sum(CallStat.avg_wait_seconds * CallStat.answered),
        func.sum(CallStat.answered).filter(answered_waits),
        func.max(CallStat.max_wait_seconds),
        func.sum(CallStat.service_level * CallStat.offered),
        func.sum(CallStat.offered).filter(with_level),
    ).where(CallStat.authority_id == authority_id, CallStat.interval_start >= start,
            CallStat.interval_start < end)
    if queue is not None:
        query = query.where(CallStat.queue == queue)
    for column, wanted in ((CallStat.department_id, department_id),
                           (CallStat.site_id, site_id), (CallStat.source_id, source_id)):
        if wanted is not None:
            query = query.where(column == wanted)
    row = session.execute(query).one()
    count, offered, answered, abandoned, wait_sum, wait_weight, max_wait, sl_sum, sl_weight = row
    return CallSums(
        intervals=int(count), offered=int(offered), answered=int(answered),
        abandoned=int(abandoned), wait_sum=float(wait_sum or 0), wait_weight=int(wait_weight or 0),
        max_wait_seconds=float(max_wait) if max_wait is not None else None,
        level_sum=float(sl_sum or 0), level_weight=int(sl_weight or 0),
    )



def call_departments(session: Session, authority_id: int, start: datetime,
                     end: datetime) -> list[int]:
    """The departments of the intervals starting in [``start``, ``end``)."""
    return list(session.scalars(
        select(CallStat.department_id).where(
            CallStat.authority_id == authority_id, CallStat.interval_start >= start,
            CallStat.interval_start < end, CallStat.department_id.is_not(None))
        .group_by(CallStat.department_id).order_by(CallStat.department_id)))
