"""Repository functions for sources and their collection runs and quarantine."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, func, select, update
from sqlalchemy.orm import Session

from ecoute.errors import SourceExists, SourceNotFound
from ecoute.store.models import (
    CallStat,
    CollectionRun,
    DeterminantTag,
    Item,
    ItemCount,
    Quarantine,
    RunStatus,
    Source,
    Tagging,
    utcnow,
)
from ecoute.store.taggings import forget_classification

#: Items deleted per statement when a source goes with its items.
DELETE_CHUNK = 500


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


def kind_and_options(session: Session, source_id: int) -> tuple[str, dict[str, Any]]:
    """A source's kind and options, read without loading the whole source (every pushed
    batch reads them)."""
    row = session.execute(
        select(Source.kind, Source.options).where(Source.id == source_id)).first()
    if row is None:
        raise SourceNotFound(f"no source with id {source_id}")
    return row[0], dict(row[1])


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
    """Every source of the authority with the number of items it collected (from the
    counters the database keeps, not a count of the item table)."""
    counts = (
        select(ItemCount.source_id, func.sum(ItemCount.items).label("n"))
        .group_by(ItemCount.source_id).subquery()
    )
    rows = session.execute(
        select(Source, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.source_id == Source.id)
        .where(Source.authority_id == authority_id, Source.removed_at.is_(None))
        .order_by(Source.name)
    ).all()
    return [(source, int(n)) for source, n in rows]


def delete_source(session: Session, source_id: int) -> int:
    """Delete a source with its items, their tags and classifications (taken out of the
    rollups first), its runs, quarantine and call figures; returns how many items went."""
    deleted = 0
    while ids := list(session.scalars(
            select(Item.id).where(Item.source_id == source_id).limit(DELETE_CHUNK))):
        items = list(session.scalars(select(Item).where(Item.id.in_(ids))))
        forget_classification(session, items)
        session.flush()
        for model in (DeterminantTag, Tagging):
            session.execute(delete(model).where(model.item_id.in_(ids))
                            .execution_options(synchronize_session=False))
        session.execute(delete(Item).where(Item.id.in_(ids))
                        .execution_options(synchronize_session=False))
        for item in items:
            session.expunge(item)
        deleted += len(ids)
    for owned in (Quarantine, CallStat, CollectionRun):
        session.execute(delete(owned).where(owned.source_id == source_id)
                        .execution_options(synchronize_session=False))
    source = session.get(Source, source_id)
    if source is not None:
        session.delete(source)
    session.flush()
    return deleted


def last_run_quarantined(session: Session, source_ids: list[int]) -> dict[int, int]:
    """Per source, the quarantine entries of its latest run that nobody resolved yet."""
    if not source_ids:
        return {}
    latest = (
        select(CollectionRun.source_id, func.max(CollectionRun.id).label("run_id"))
        .where(CollectionRun.source_id.in_(source_ids))
        .group_by(CollectionRun.source_id)
        .subquery()
    )
    rows = session.execute(
        select(Quarantine.source_id, func.count())
        .join(latest, latest.c.run_id == Quarantine.run_id)
        .where(Quarantine.resolved_at.is_(None))
        .group_by(Quarantine.source_id)
    ).all()
    return {int(source_id): int(n) for source_id, n in rows}


def start_run(session: Session, source_id: int) -> CollectionRun:
    run = CollectionRun(source_id=source_id, status=RunStatus.RUNNING, started_at=utcnow())
    session.add(run)
    session.flush()
    return run


def update_source(session: Session, source_id: int, **values: Any) -> None:
    """Set columns of a source without loading it (a run's outcome)."""
    table = cast(Table, Source.__table__)
    result = session.execute(update(table).where(table.c.id == source_id).values(**values))
    if not cast(CursorResult[Any], result).rowcount:
        raise SourceNotFound(f"no source with id {source_id}")


def update_run(session: Session, run_id: int, **values: Any) -> None:
    """Set columns of a collection run (its counters as a batch commits, its outcome), in one
    statement and without loading it: every pushed batch does it twice."""
    table = cast(Table, CollectionRun.__table__)
    session.execute(update(table).where(table.c.id == run_id).values(**values))


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


def source_names(session: Session, authority_id: int) -> dict[int, str]:
    """The names of all the authority's sources by id, removed ones too (their items stay)."""
    return {id_: name for id_, name in session.execute(
        select(Source.id, Source.name).where(Source.authority_id == authority_id))}
