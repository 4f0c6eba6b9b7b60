"""Retention: items and quarantine entries past their period leave the store.

Items are deleted or anonymised per source kind; the figures they gave to ``DailyRollup`` stay
(the rollup is the record of what was heard, the text is personal data kept only as long as
needed). That is the opposite of an erasure (``ecoute.store.erasure``), which takes a person's
contributions out of the figures too.

An item's age counts from the earlier of its publication date and the day ecoute collected it,
so an old message imported today is not kept longer than the period says; the runner does not
store one already past its period (``retention_cutoff``) at all.

A deleted item leaves a tombstone (``ecoute.store.purged``) and an anonymised one stays as a
row: either way the runner recognises it when its source offers it again, so a purge is not
undone by the next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ecoute.config.settings import Settings
from ecoute.store.models import Followup, FollowupEvent, Item, Quarantine, Source, utcnow
from ecoute.store.purged import remember_items

#: ``Item.extra`` of an anonymised item: says what happened and when, nothing else.
ANONYMISED_KEY = "anonymised_at"
_CHUNK = 500

Action = Literal["delete", "anonymise"]


@dataclass
class RetentionReport:
    """What one purge did: items per source kind, quarantine entries by state."""

    items_deleted: dict[str, int] = field(default_factory=dict)
    items_anonymised: dict[str, int] = field(default_factory=dict)
    quarantine_resolved: int = 0
    quarantine_unresolved: int = 0


def item_periods(
    session: Session, default_days: int, by_kind: Mapping[str, int]
) -> dict[str, int]:
    """Retention days of every source kind in use (0: kept)."""
    kinds = set(session.scalars(select(Source.kind).distinct()))
    return {kind: int(by_kind.get(kind, default_days) or 0) for kind in sorted(kinds)}


def retention_cutoff(
    settings: Settings, kind: str, now: datetime | None = None
) -> datetime | None:
    """Items of ``kind`` published before this are past their period (None: kept forever)."""
    days = int(settings.retention_days_by_kind.get(kind, settings.retention_days) or 0)
    if days <= 0:
        return None
    return (now or utcnow()) - timedelta(days=days)


def is_anonymised(item: Item) -> bool:
    return bool(item.extra) and ANONYMISED_KEY in item.extra


def _expired_ids(session: Session, kind: str, cutoff: datetime, action: Action) -> list[int]:
    query = (
        select(Item.id)
        .join(Source, Source.id == Item.source_id)
        .where(Source.kind == kind,
               or_(Item.collected_at < cutoff, Item.published_at < cutoff))
        .order_by(Item.id)
        .limit(_CHUNK)
    )
    if action == "anonymise":
        # Already anonymised items have an empty text; they are not counted twice.
        query = query.where(Item.text != "")
    return list(session.scalars(query))


def purge_items(
    session: Session, periods: Mapping[str, int], action: Action, *,
    now: datetime | None = None, report: RetentionReport | None = None,
) -> RetentionReport:
    """Delete or anonymise the items past the period of their source kind.

    Deleting cascades to their taggings and determinant tags; the rollups are left as they
    are, on purpose, so weekly and monthly figures do not change when texts expire. A
    deleted item leaves a tombstone, so collecting its source again does not count it twice."""
    now = now or utcnow()
    report = report or RetentionReport()
    for kind, days in periods.items():
        if days <= 0:
            continue
        cutoff = now - timedelta(days=days)
        done = 0
        while ids := _expired_ids(session, kind, cutoff, action):
            if action == "delete":
                remember_items(session, ids, now=now)
                session.execute(delete(Item).where(Item.id.in_(ids))
                                .execution_options(synchronize_session=False))
            else:
                session.execute(
                    update(Item).where(Item.id.in_(ids))
                    .values(text="", title=None, url=None, author_hash=None,
                            extra={ANONYMISED_KEY: now.date().isoformat()})
                    .execution_options(synchronize_session=False)
                )
                _blank_followup_notes(session, ids)
            done += len(ids)
        if done:
            target = report.items_deleted if action == "delete" else report.items_anonymised
            target[kind] = done
    return report


def _blank_followup_notes(session: Session, item_ids: list[int]) -> None:
    """Officers' notes and dismissal reasons may quote the person: they go with the text, the
    follow-up's dates and statuses stay for the responsiveness figures."""
    followups = select(Followup.id).where(Followup.item_id.in_(item_ids))
    session.execute(update(FollowupEvent).where(FollowupEvent.followup_id.in_(followups),
                                                FollowupEvent.note.is_not(None))
                    .values(note="").execution_options(synchronize_session=False))
    session.execute(update(Followup).where(Followup.item_id.in_(item_ids),
                                           Followup.dismissed_reason.is_not(None))
                    .values(dismissed_reason="").execution_options(synchronize_session=False))


def purge_quarantine(
    session: Session, *, resolved_days: int, unresolved_days: int,
    now: datetime | None = None, report: RetentionReport | None = None,
) -> RetentionReport:
    """Delete quarantine entries resolved more than ``resolved_days`` ago, and unresolved
    ones created more than ``unresolved_days`` ago (0: kept)."""
    now = now or utcnow()
    report = report or RetentionReport()
    if resolved_days > 0:
        result = session.execute(
            delete(Quarantine)
            .where(Quarantine.resolved_at.is_not(None),
                   Quarantine.resolved_at < now - timedelta(days=resolved_days))
            .execution_options(synchronize_session=False)
        )
        report.quarantine_resolved = int(result.rowcount)  # type: ignore[attr-defined]
    if unresolved_days > 0:
        result = session.execute(
            delete(Quarantine)
            .where(Quarantine.resolved_at.is_(None),
                   Quarantine.created_at < now - timedelta(days=unresolved_days))
            .execution_options(synchronize_session=False)
        )
        report.quarantine_unresolved = int(result.rowcount)  # type: ignore[attr-defined]
    return report


def apply_retention(
    session: Session, settings: Settings, *, now: datetime | None = None
) -> RetentionReport:
    """Everything the daily purge does to items and quarantine, with the installation's
    settings."""
    now = now or utcnow()
    periods = item_periods(session, settings.retention_days, settings.retention_days_by_kind)
    report = purge_items(session, periods, settings.retention_action, now=now)
    return purge_quarantine(
        session, resolved_days=settings.retention_quarantine_days,
        unresolved_days=settings.retention_quarantine_unresolved_days, now=now, report=report,
    )
