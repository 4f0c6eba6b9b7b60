"""The overload detection as a job: after a run of a ``call_log`` source brought figures, and
every ``phone_check_minutes``, the phone queues are judged (figures collected from files
arrive by runs, not by the API), then the volunteers called in are notified.

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
from ecoute.digest.backup_webhook import notifier_for
from ecoute.store.db import session_scope
from ecoute.store.models import Authority, Source, utcnow

log = logging.getLogger(__name__)
#: The source kind whose runs bring phone figures (named here: the scheduler decides when to
#: judge, whatever collector wrote them).
CALL_LOG = "call_log"


def check_phone_queues(factory: sessionmaker[Session], settings: Settings, *,
                       now: datetime | None = None, notifier: Notifier | None = None,
                       authority_ids: list[int] | None = None) -> dict[str, int]:
    """Judge the queues of every authority (of ``authority_ids`` when given), then send the
    pending calls; what happened."""
    with session_scope(factory) as session:
        query = select(Authority.id).order_by(Authority.id)
        if authority_ids is not None:
            query = query.where(Authority.id.in_(authority_ids))
        ids = list(session.scalars(query))
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
    sent = notify_pending_calls(factory, settings, notifier or notifier_for(settings))
    if any(outcome.values()) or any(sent.values()):
        log.info("phone queues: %(opened)d overloads started, %(closed)d ended, "
                 "%(activated)d back-up teams called in", outcome)
    return {**outcome, **sent}


def after_call_log_run(factory: sessionmaker[Session], settings: Settings, source_id: int,
                       changed: int) -> None:
    """After a run that stored ``changed`` new or corrected entries: when the source reads
    phone figures, judge its authority's queues at once."""
    if not changed:
        return
    try:
        with session_scope(factory) as session:
            source = session.get(Source, source_id)
            if source is None or source.kind != CALL_LOG:
                return
            authority_id = source.authority_id
        check_phone_queues(factory, settings, authority_ids=[authority_id])
    except Exception:  # the run itself succeeded; the periodic job judges the queues again
        log.exception("could not judge the phone queues after a run of source %s", source_id)
