"""Repository functions for quarantine entries: what the runner could not store, kept with
where and why until someone retries or dismisses it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ecoute.errors import QuarantineNotFound
from ecoute.store.models import Quarantine, Source


@dataclass(frozen=True)
class QuarantineFilters:
    authority_id: int | None = None
    source_id: int | None = None
    #: None: both; False: still waiting; True: retried successfully or dismissed.
    resolved: bool | None = False


def _where(filters: QuarantineFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Source.removed_at.is_(None)]
    if filters.authority_id is not None:
        conditions.append(Source.authority_id == filters.authority_id)
    if filters.source_id is not None:
        conditions.append(Quarantine.source_id == filters.source_id)
    if filters.resolved is True:
        conditions.append(Quarantine.resolved_at.is_not(None))
    elif filters.resolved is False:
        conditions.append(Quarantine.resolved_at.is_(None))
    return conditions


def list_entries(
    session: Session, filters: QuarantineFilters, *, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[Quarantine, str]], int]:
    """One page of entries, oldest first, each with its source's name; and the total."""
    conditions = _where(filters)
    total = session.scalar(
        select(func.count()).select_from(Quarantine)
        .join(Source, Source.id == Quarantine.source_id).where(*conditions)
    ) or 0
    rows = session.execute(
        select(Quarantine, Source.name).join(Source, Source.id == Quarantine.source_id)
        .where(*conditions)
        .order_by(Quarantine.id).limit(limit).offset(offset)
    ).all()
    return [(entry, name) for entry, name in rows], int(total)


def get_entry(session: Session, entry_id: int, authority_id: int | None = None) -> Quarantine:
    """An entry; one of another authority is reported as missing, never shown."""
    entry = session.get(Quarantine, entry_id)
    if entry is not None and authority_id is not None:
        source = session.get(Source, entry.source_id)
        if source is None or source.authority_id != authority_id:
            entry = None
    if entry is None:
        raise QuarantineNotFound(f"no quarantine entry with id {entry_id}",
                                 hint="`ecoute quarantine list` shows the entries")
    return entry


def unresolved_ids(session: Session, source_id: int) -> list[int]:
    return list(session.scalars(
        select(Quarantine.id)
        .where(Quarantine.source_id == source_id, Quarantine.resolved_at.is_(None))
        .order_by(Quarantine.id)
    ))


def unresolved_counts(session: Session, source_ids: list[int]) -> dict[int, int]:
    """Per source, its entries nobody has retried or dismissed yet (all runs)."""
    if not source_ids:
        return {}
    rows = session.execute(
        select(Quarantine.source_id, func.count())
        .where(Quarantine.source_id.in_(source_ids), Quarantine.resolved_at.is_(None))
        .group_by(Quarantine.source_id)
    ).all()
    return {int(source_id): int(n) for source_id, n in rows}
