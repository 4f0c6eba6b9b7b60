"""Repository functions for continuous operation: run requests, source leases, retention.

A source is *due* when the scheduler asked for a run (``due_at``), it is enabled, it is not
backing off after failures (``next_run_at`` in the future) and nobody holds a live lease on it.
Claiming is one conditional UPDATE, atomic on SQLite and PostgreSQL alike, so two workers can
never both win the same source; a lease not renewed in time is free for the next worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from ecoute.store.models import (
    CollectionRun,
    RunStatus,
    Source,
    utcnow,
)


def _lease_free(now: datetime):  # type: ignore[no-untyped-def]
    return or_(Source.lease_until.is_(None), Source.lease_until < now)


def _not_backing_off(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        Source.consecutive_failures == 0, Source.next_run_at.is_(None), Source.next_run_at <= now
    )


def request_run(session: Session, source_id: int, *, now: datetime | None = None) -> bool:
    """Ask for a run of the source; an earlier pending request is kept (runs coalesce).
    Returns False when the source is disabled or gone."""
    now = now or utcnow()
    result = session.execute(
        update(Source)
        .where(Source.id == source_id, Source.enabled.is_(True))
        .values(due_at=func.coalesce(Source.due_at, now))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def due_source_ids(session: Session, *, now: datetime | None = None, limit: int = 10) -> list[int]:
    now = now or utcnow()
    query = (
        select(Source.id)
        .where(Source.enabled.is_(True), Source.due_at.is_not(None), Source.due_at <= now,
               _lease_free(now), _not_backing_off(now))
        .order_by(Source.due_at, Source.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Workers scanning at the same moment spread over different sources.
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


@dataclass(frozen=True)
class Claim:
    source_id: int
    taken_over: bool  # the previous holder's lease had expired: its run is an orphan


def claim_source(
    session: Session, source_id: int, worker: str, lease: timedelta, *, now: datetime | None = None
) -> Claim | None:
    """Take the lease on a due source; None when another worker has it or it is not due."""
    now = now or utcnow()
    previous = session.scalar(select(Source.claimed_by).where(Source.id == source_id))
    result = session.execute(
        update(Source)
        .where(Source.id == source_id, Source.enabled.is_(True), Source.due_at.is_not(None),
               _lease_free(now), _not_backing_off(now))
        .values(claimed_by=worker, lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    taken_over = previous is not None and previous != worker
    if taken_over:
        close_orphaned_runs(session, source_ids=[source_id])
    return Claim(source_id, taken_over)


def renew_leases(
    session: Session, worker: str, source_ids: list[int], lease: timedelta
) -> set[int]:
    """Extend the leases this worker still holds; returns the ids it lost."""
    if not source_ids:
        return set()
    session.execute(
        update(Source)
        .where(Source.id.in_(source_ids), Source.claimed_by == worker)
        .values(lease_until=utcnow() + lease)
        .execution_options(synchronize_session=False)
    )
    held = set(session.scalars(
        select(Source.id).where(Source.id.in_(source_ids), Source.claimed_by == worker)
    ))
    return set(source_ids) - held


def release_source(
    session: Session, source_id: int, worker: str, *, started: datetime, succeeded: bool
) -> None:
    """Give the lease back and answer the request the run served (a request made while it
    was going on stays due). A failed run is retried at the source's next scheduled time,
    or, once the runner has put the source in back-off, when ``next_run_at`` comes."""
    session.execute(
        update(Source)
        .where(Source.id == source_id, Source.claimed_by == worker)
        .values(claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    retry = None if succeeded else session.scalar(
        select(Source.next_run_at).where(Source.id == source_id)
    )
    session.execute(
        update(Source)
        .where(Source.id == source_id, Source.due_at <= started)
        .values(due_at=retry)
        .execution_options(synchronize_session=False)
    )


def release_worker(session: Session, worker: str) -> int:
    """Drop every lease of ``worker`` (clean shutdown: others need not wait for expiry)."""
    result = session.execute(
        update(Source)
        .where(Source.claimed_by == worker)
        .values(claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def close_orphaned_runs(
    session: Session, *, source_ids: list[int] | None = None, now: datetime | None = None
) -> int:
    """Mark as failed the runs left "running" on sources nobody holds a live lease on
    (their process died); with ``source_ids``, the runs of those sources whatever the lease
    (the caller just took the lease over)."""
    now = now or utcnow()
    query = select(CollectionRun).where(CollectionRun.status == RunStatus.RUNNING)
    if source_ids is not None:
        query = query.where(CollectionRun.source_id.in_(source_ids))
    else:
        live = select(Source.id).where(Source.lease_until.is_not(None), Source.lease_until >= now)
        query = query.where(CollectionRun.source_id.not_in(live))
    runs = list(session.scalars(query))
    for run in runs:
        run.status = RunStatus.FAILED
        run.finished_at = now
        run.error = "the process running this collection stopped before it finished"
    return len(runs)


def purge_finished_runs(session: Session, *, runs_days: int, now: datetime | None = None
                        ) -> int:
    """Delete finished runs started more than ``runs_days`` ago (0: kept); the number deleted.
    Quarantine entries have their own periods (``store.retention``); items are never touched."""
    if runs_days <= 0:
        return 0
    now = now or utcnow()
    result = session.execute(
        delete(CollectionRun)
        .where(CollectionRun.status != RunStatus.RUNNING,
               CollectionRun.started_at < now - timedelta(days=runs_days))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def schedule_rows(session: Session) -> list[tuple[int, str | None, str, bool, bool]]:
    """(id, schedule, authority timezone, enabled, never run) of every source."""
    from ecoute.store.models import Authority

    rows = session.execute(
        select(Source.id, Source.schedule, Authority.timezone, Source.enabled,
               and_(Source.last_run_at.is_(None), Source.due_at.is_(None)))
        .join(Authority, Authority.id == Source.authority_id)
        .order_by(Source.id)
    ).all()
    return [(r[0], r[1], r[2], bool(r[3]), bool(r[4])) for r in rows]


def claim_holders(session: Session) -> list[str]:
    """Names of the workers holding a source lease right now."""
    return [name for name in session.scalars(
        select(Source.claimed_by).where(Source.claimed_by.is_not(None)).distinct()
    ) if name]


def release_holder(session: Session, holder: str) -> list[int]:
    """Free the leases of a worker known to be dead; returns the sources concerned."""
    ids = list(session.scalars(select(Source.id).where(Source.claimed_by == holder)))
    if ids:
        session.execute(
            update(Source).where(Source.id.in_(ids))
            .values(claimed_by=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
    return ids
