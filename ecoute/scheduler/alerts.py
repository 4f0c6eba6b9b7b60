"""Evaluating alerts as jobs: after classification batches (from the workers, at most every
``alerts_every_seconds`` per authority) and every night (a scheduler job, which also prunes
the embeddings older than any window looks at).

Each authority is evaluated in its own transaction, so that one authority's failure does not
hold the others' alerts back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.alerts import find_alerts
from ecoute.collectors.schedules import nth_fire_after
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.alerts import sync_alerts
from ecoute.store.embeddings import prune_embeddings
from ecoute.store.models import Authority, utcnow

log = logging.getLogger(__name__)

#: Embeddings are kept this many days beyond the alert windows, for late classifications.
EMBEDDINGS_MARGIN_DAYS = 7


def evaluate_authorities(
    factory: sessionmaker[Session], settings: Settings, authority_ids: Iterable[int] | None = None,
    *, now: datetime | None = None, reader: sessionmaker[Session] | None = None,
) -> dict[int, tuple[int, int]]:
    """Evaluate the alerts of the given authorities (all by default); returns, per authority,
    how many alerts were raised and cleared. The figures are read in a ``reader`` session
    (default: ``factory``'s) and only the changes written in one of ``factory``: on SQLite a
    writer session holds the database's write lock from its start, which the reading (the
    clustering of topics, above all) would keep from the collection runs."""
    reader = reader or factory
    with session_scope(reader) as session:
        query = select(Authority.id).order_by(Authority.id)
        if authority_ids is not None:
            query = query.where(Authority.id.in_(list(authority_ids)))
        ids = list(session.scalars(query))
    outcome = {}
    for authority_id in ids:
        try:
            now_ = now or utcnow()
            with session_scope(reader) as session:
                authority = session.get(Authority, authority_id)
                if authority is None:
                    continue
                kinds, findings = find_alerts(session, authority, settings, now=now_,
                                              silence_deadline=nth_fire_after)
            with session_scope(factory) as session:
                changes = sync_alerts(session, authority_id, kinds, findings, now=now_)
            outcome[authority_id] = (len(changes.raised), len(changes.cleared))
            if changes.raised or changes.cleared:
                log.info("alerts of authority %s: raised %s, cleared %s", authority_id,
                         ", ".join(changes.raised) or "none", ", ".join(changes.cleared) or "none")
        except Exception:  # one authority's data must not stop the others' alerts
            log.exception("could not evaluate the alerts of authority %s", authority_id)
    return outcome


def nightly_alerts(factory: sessionmaker[Session], settings: Settings,
                   *, now: datetime | None = None) -> dict[int, tuple[int, int]]:
    """Every authority's alerts, then the embeddings no window reads any more."""
    now = now or utcnow()
    outcome = evaluate_authorities(factory, settings, now=now)
    horizon = settings.alert_window_days + settings.alert_baseline_days + EMBEDDINGS_MARGIN_DAYS
    with session_scope(factory) as session:
        pruned = prune_embeddings(session, (now - timedelta(days=horizon)).date())
    if pruned:
        log.info("deleted %d embeddings older than %d days", pruned, horizon)
    return outcome
