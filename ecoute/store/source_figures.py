"""Repository functions for a source's own published figures (``SourceFigure``).

One row per change of what the source says of itself, per rated subject; a run that reads the
same figures again only moves ``last_seen_at``, so the table is the history of the changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoute.store.models import SourceFigure, utcnow

#: The columns that make two readings the same figures.
COMPARED = ("rating_value", "worst_rating", "best_rating", "rating_count", "review_count")


def record_figures(
    session: Session, source_id: int, readings: Sequence[dict[str, Any]],
    *, now: datetime | None = None,
) -> int:
    """Store ``readings`` (column values of SourceFigure, without ids and dates) of
    ``source_id``; returns how many were new or changed figures."""
    if not readings:
        return 0  # most batches: no query
    now = now or utcnow()
    latest = {f.subject: f for f in _latest(session, [source_id]).get(source_id, [])}
    changed = 0
    for reading in readings:
        current = latest.get(reading.get("subject"))
        if current is not None and all(getattr(current, k) == reading.get(k) for k in COMPARED):
            current.last_seen_at = now
            continue
        row = SourceFigure(source_id=source_id, observed_at=now, last_seen_at=now, **reading)
        session.add(row)
        latest[row.subject] = row
        changed += 1
    session.flush()
    return changed


def figure_dict(figure: SourceFigure) -> dict[str, Any]:
    """The figures as plain values (for JSON output)."""
    return {"subject": figure.subject, "url": figure.url, "rating_value": figure.rating_value,
            "worst_rating": figure.worst_rating, "best_rating": figure.best_rating,
            "rating_count": figure.rating_count, "review_count": figure.review_count,
            "observed_at": figure.observed_at, "last_seen_at": figure.last_seen_at}


def latest_figures(session: Session, source_ids: Iterable[int]) -> dict[int, list[SourceFigure]]:
    """The current figures of each source, one per rated subject."""
    return _latest(session, list(source_ids))


def figure_history(session: Session, source_id: int, limit: int = 500) -> list[SourceFigure]:
    """The figures of ``source_id`` as they changed, newest first."""
    return list(session.scalars(
        select(SourceFigure).where(SourceFigure.source_id == source_id)
        .order_by(SourceFigure.observed_at.desc(), SourceFigure.id.desc()).limit(limit)
    ))


def _latest(session: Session, source_ids: list[int]) -> dict[int, list[SourceFigure]]:
    if not source_ids:
        return {}
    found: dict[int, dict[str | None, SourceFigure]] = defaultdict(dict)
    for row in session.scalars(
        select(SourceFigure).where(SourceFigure.source_id.in_(source_ids))
        .order_by(SourceFigure.observed_at, SourceFigure.id)
    ):
        found[row.source_id][row.subject] = row  # later rows replace earlier ones
    return {sid: sorted(rows.values(), key=lambda f: f.subject or "")
            for sid, rows in found.items()}
