"""What ``/metrics`` reports of the store, read in a few small queries.

Every query here reads an index or a small table, never the whole item table: the item counts
come from ``item_count`` (kept by triggers), the classify queue from the index on
``classified_version``, run durations from each source's latest run. A scrape stays a few
milliseconds at a million items.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoute.store.items import latest_model_version, pending_count
from ecoute.store.models import (
    Authority,
    CollectionRun,
    ItemCount,
    Quarantine,
    RunStatus,
    Source,
)


@dataclass(frozen=True)
class SourceGauge:
    """A source as the scrape names it, with its health figures."""

    source_id: int
    authority: str
    name: str
    last_success_at: datetime | None
    consecutive_failures: int


def source_gauges(session: Session) -> list[SourceGauge]:
    """Every source of every authority, with the authority's slug."""
    return [
        SourceGauge(sid, slug, name, success, failures)
        for sid, slug, name, success, failures in session.execute(
            select(Source.id, Authority.slug, Source.name, Source.last_success_at,
                   Source.consecutive_failures)
            .join(Authority, Authority.id == Source.authority_id).order_by(Source.id))
    ]


def items_per_source_channel(session: Session) -> list[tuple[int, str, int]]:
    """``(source id, channel, items stored)``, from the counters."""
    return [(sid, channel, int(n)) for sid, channel, n in session.execute(
        select(ItemCount.source_id, ItemCount.channel, ItemCount.items)
        .where(ItemCount.items != 0).order_by(ItemCount.source_id, ItemCount.channel))]


def items_per_source(session: Session, source_ids: Iterable[int]) -> dict[int, int]:
    """Items stored per source, from the counters."""
    ids = list(source_ids)
    if not ids:
        return {}
    return {int(sid): int(n) for sid, n in session.execute(
        select(ItemCount.source_id, func.sum(ItemCount.items))
        .where(ItemCount.source_id.in_(ids)).group_by(ItemCount.source_id))}


def unresolved_quarantine(session: Session) -> list[tuple[int, int]]:
    """``(source id, quarantine entries nobody retried or dismissed)``."""
    return [(int(sid), int(n)) for sid, n in session.execute(
        select(Quarantine.source_id, func.count()).where(Quarantine.resolved_at.is_(None))
        .group_by(Quarantine.source_id))]


def classify_queue(session: Session) -> int:
    """Items waiting for classification: for each authority, what the model its workers run
    now has not classified (items never classified, and those an earlier model version tagged,
    which a new model tags again), counted on the indexes of the classify queue."""
    return sum(
        pending_count(session, latest_model_version(session, authority_id),
                      authority_id=authority_id)
        for authority_id in session.scalars(select(Authority.id))
    )


def last_finished_runs(session: Session) -> list[tuple[int, str, float]]:
    """``(source id, status, seconds)`` of each source's latest finished run."""
    latest = (
        select(CollectionRun.source_id, func.max(CollectionRun.id).label("id"))
        .where(CollectionRun.status != RunStatus.RUNNING)
        .group_by(CollectionRun.source_id).subquery()
    )
    out = []
    for run in session.scalars(select(CollectionRun).join(latest,
                                                          latest.c.id == CollectionRun.id)):
        if run.finished_at is not None:
            seconds = (run.finished_at - run.started_at).total_seconds()
            out.append((run.source_id, str(run.status), max(seconds, 0.0)))
    return out
