"""Repository functions for alerts: raising each condition once while it lasts, resolving.

An evaluation hands over what it found (``Finding``s, each with a key naming its condition)
for the kinds it evaluated; ``sync_alerts`` then

- raises a new alert for a key with no active alert (unless a person resolved the last one
  while its condition still held: it stays quiet until the condition has cleared once);
- refreshes the figures of the active alert of a key found again;
- resolves, as cleared, the active alerts of those kinds whose key was not found.

The partial unique index on ``(authority_id, key) WHERE resolved_at IS NULL`` makes two
evaluations running at once raise one alert, not two (the insert does nothing on conflict).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ecoute.errors import AlertNotFound, Conflict
from ecoute.store.models import Alert, utcnow


@dataclass(frozen=True)
class Finding:
    """A condition an evaluation found, with the figures that raised it."""

    kind: str
    key: str
    title: str
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class AlertChanges:
    raised: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)


def sync_alerts(
    session: Session, authority_id: int, kinds: Iterable[str], findings: Sequence[Finding],
    *, now: datetime | None = None,
) -> AlertChanges:
    """Make the stored alerts of ``kinds`` match ``findings`` (see the module's docstring)."""
    now = now or utcnow()
    kinds = set(kinds)
    found = {f.key: f for f in findings if f.kind in kinds}
    changes = AlertChanges()
    active = {a.key: a for a in session.scalars(select(Alert).where(
        Alert.authority_id == authority_id, Alert.kind.in_(kinds),
        Alert.resolved_at.is_(None)))}
    # Resolved by a person while the condition held: quiet until the condition clears.
    muted = {a.key: a for a in session.scalars(select(Alert).where(
        Alert.authority_id == authority_id, Alert.kind.in_(kinds),
        Alert.resolved_at.is_not(None), Alert.cleared_at.is_(None)))}
    for key, alert in active.items():
        if key in found:
            alert.figures, alert.title, alert.last_seen_at = (found[key].figures,
                                                              found[key].title, now)
            changes.refreshed.append(key)
        else:
            alert.resolved_at = alert.cleared_at = now
            changes.cleared.append(key)
    for key, alert in muted.items():
        if key not in found:
            alert.cleared_at = now
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for key, finding in found.items():
        if key in active or key in muted:
            continue
        stmt = insert(Alert).values(
            authority_id=authority_id, kind=finding.kind, key=key, title=finding.title,
            figures=finding.figures, raised_at=now, last_seen_at=now,
        ).on_conflict_do_nothing(index_elements=["authority_id", "key"],
                                 index_where=text("resolved_at IS NULL"))
        if session.execute(stmt).rowcount:  # type: ignore[attr-defined]
            changes.raised.append(key)
    session.flush()
    return changes


def list_alerts(
    session: Session, authority_id: int, *, active: bool | None = True,
    kind: str | None = None, limit: int = 200,
) -> list[Alert]:
    """The authority's alerts, newest first (``active``: only unresolved, or only resolved
    when False, all when None)."""
    query = select(Alert).where(Alert.authority_id == authority_id)
    if active is not None:
        query = query.where(Alert.resolved_at.is_(None) if active
                            else Alert.resolved_at.is_not(None))
    if kind:
        query = query.where(Alert.kind == kind)
    return list(session.scalars(query.order_by(Alert.raised_at.desc(), Alert.id.desc())
                                .limit(limit)))


def count_active_alerts(session: Session, authority_id: int) -> int:
    """How many of the authority's alerts are not resolved."""
    return session.scalar(select(func.count()).select_from(Alert).where(
        Alert.authority_id == authority_id, Alert.resolved_at.is_(None))) or 0


def alerts_raised(session: Session, authority_id: int, since: datetime, until: datetime
                  ) -> list[Alert]:
    """The authority's alerts raised in [``since``, ``until``), oldest first."""
    return list(session.scalars(
        select(Alert).where(Alert.authority_id == authority_id, Alert.raised_at >= since,
                            Alert.raised_at < until)
        .order_by(Alert.raised_at, Alert.id)))


def resolve_alert(session: Session, alert_id: int, authority_id: int | None, *, by: str,
                  now: datetime | None = None) -> Alert:
    """A person resolves an alert (of ``authority_id``, unless None: any authority)."""
    alert = session.get(Alert, alert_id)
    if alert is None or (authority_id is not None and alert.authority_id != authority_id):
        raise AlertNotFound(f"no alert with id {alert_id}",
                            hint="GET /api/v1/alerts lists the active ones")
    if alert.resolved_at is not None:
        raise Conflict(f"alert {alert_id} was already resolved on "
                       f"{alert.resolved_at:%Y-%m-%d %H:%M} UTC "
                       f"({alert.resolved_by or 'its condition cleared'})")
    alert.resolved_at = now or utcnow()
    alert.resolved_by = by[:200]
    session.flush()
    return alert
