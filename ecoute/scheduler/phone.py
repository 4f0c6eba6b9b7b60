"""The overload detection as a job: every ``phone_check_minutes``, each authority's phone
queues are judged (figures collected from files arrive by runs, not by the API), then the
volunteers called in are notified.

Each authority is evaluated in its own transaction, so that one authority's failure does not
hold the others' back; the notices go out after the activations are committed, so that their
links work when they arrive.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.backup_team import evaluate_phone
from ecoute.config.settings import Settings
from ecoute.digest.backup_notices import Notifier, notify_pending_calls
from ecoute.store.db import session_scope
from ecoute.store.models import Authority, utcnow

log = logging.getLogger(__name__)


def check_phone_queues(factory: sessionmaker[Session], settings: Settings, *,
                       now: datetime | None = None, notifier: Notifier | None = None
                       ) -> dict[str, int]:
    """Judge every authority's queues, then send the pending calls; what happened."""
    with session_scope(factory) as session:
        ids = list(session.scalars(select(Authority.id).order_by(Authority.id)))
    outcome = {"opened": 0, "closed": 0, "activated": 0}
    for authority_id in ids:
        try:
            with session_scope(factory) as session:
                authority = session.get(Authority, authority_id)
                if authority is None:
                    continue
                changes = evaluate_phone(session, authority, settings, now or utcnow())
            outcome["opened"] += len(changes.opened)
            outcome["closed"] += len(changes.closed)
            outcome["activated"] += len(changes.activated)
        except Exception:  # one authority's figures must not stop the others' detection
            log.exception("could not judge the phone queues of authority %s", authority_id)
    sent = notify_pending_calls(factory, settings, notifier)
    if any(outcome.values()) or any(sent.values()):
        log.info("phone queues: %(opened)d overloads started, %(closed)d ended, "
                 "%(activated)d back-up teams called in", outcome)
    return {**outcome, **sent}
