"""Repository functions for sources and their collection runs and quarantine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoute.errors import SourceExists, SourceNotFound
from ecoute.store.models import (
    CollectionRun,
    Item,
    Quarantine,
    RunStatus,
    Source,
    utcnow,
)


def add_source(
    session: Session,
    authority_id: int,
    *,
    name: str,
    kind: str,
    options: dict[str, Any],
    schedule: str | None = None,
    department_id: int | None = None,
    site_id: int | None = None,
) -> Source:
    if session.scalar(
        select(Source.id).where(Source.authority_id == authority_id, Source.name == name)
    ):
        raise SourceExists(
            f"a source named {name!r} already exists",
            hint="choose another name or remove the existing source",
        )
    source = Source(
        authority_id=authority_id, name=name, kind=kind, options=options, schedule=schedule,
        department_id=department_id, site_id=site_id, cursor={}, enabled=True,
    )
    session.add(source)
    session.flush()
    return source


def get_source(session: Session, source_id: int) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise SourceNotFound(f"no source with id {source_id}")
    return source


def get_source_by_name(session: Session, authority_id: int, name: str) -> Source:
    source = session.scalar(
        select(Source).where(Source.authority_id == authority_id, Source.name == name)
    )
    if source is None:
        raise SourceNotFound(
            f"no source named {name!r}", hint="`ecoute sources list` shows the sources"
        )
    return source


def list_sources(session: Session, authority_id: int) -> list[tuple[Source, int]]:
    """Every source of the authority with the number of items it collected."""
    counts = (
        select(Item.source_id, func.count().label("n")).group_by(Item.source_id).subquery()
    )
    rows = session.execute(
        select(Source, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.source_id == Source.id)
        .where(Source.authority_id == authority_id)
        .order_by(Source.name)
    ).all()
    return [(source, int(n)) for source, n in rows]


def start_run(session: Session, source_id: int) -> CollectionRun:
    run = CollectionRun(source_id=source_id, status=RunStatus.RUNNING, started_at=utcnow())
    session.add(run)
    session.flush()
    return run


def close_stale_runs(session: Session, *, before: datetime | None = None) -> int:
    """Mark runs left "running" by a process that died as failed; returns how many."""
    query = select(CollectionRun).where(CollectionRun.status == RunStatus.RUNNING)
    if before is not None:
        query = query.where(CollectionRun.started_at < before)
    runs = list(session.scalars(query))
    for run in runs:
        run.status = RunStatus.FAILED
        run.finished_at = utcnow()
        run.error = "the process running this collection stopped before it finished"
    return len(runs)


def add_quarantine(
    session: Session,
    *,
    source_id: int,
    run_id: int | None,
    payload: str | bytes,
    position: str,
    error_class: str,
    message: str,
) -> Quarantine:
    row = Quarantine(
        source_id=source_id,
        run_id=run_id,
        payload_text=payload if isinstance(payload, str) else None,
        payload_bytes=payload if isinstance(payload, bytes) else None,
        position=position[:200],
        error_class=error_class[:100],
        message=message,
    )
    session.add(row)
    return row


def list_quarantine(session: Session, source_id: int) -> list[Quarantine]:
    return list(
        session.scalars(
            select(Quarantine).where(Quarantine.source_id == source_id).order_by(Quarantine.id)
        )
    )


def last_runs(session: Session, source_id: int, limit: int = 10) -> list[CollectionRun]:
    return list(
        session.scalars(
            select(CollectionRun)
            .where(CollectionRun.source_id == source_id)
            .order_by(CollectionRun.id.desc())
            .limit(limit)
        )
    )
