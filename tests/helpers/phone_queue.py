"""An overloaded phone queue and its back-up team, for the tests of the overload detection and
of the volunteers' calls (e-mail, webhook, any other notifier)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import CallStat
from ecoute.store.sources import add_source
from ecoute.store.volunteers import add_member, add_team, add_volunteer

QUEUE = "Accueil"


def overloaded_queue(
    factory: sessionmaker[Session],
    now: datetime,
    volunteers: Sequence[tuple[str, str | None]] | None,
) -> None:
    """Valmont's "Accueil" lost 6 of 20 calls over the half hour before ``now`` (two quarter
    hours, 3 of 10 lost in each), collected by a ``call_log`` source named "acd".

    ``volunteers`` are the (name, phone) of its back-up team "Renfort", each reached at
    ``<name>@valmont.example``; None leaves the queue without a team."""
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        source = add_source(session, valmont.id, name="acd", kind="call_log", options={})
        session.execute(
            insert(CallStat),
            [
                {
                    "authority_id": valmont.id,
                    "source_id": source.id,
                    "queue": QUEUE,
                    "interval_start": now - timedelta(minutes=15 * k),
                    "interval_minutes": 15,
                    "offered": 10,
                    "answered": 7,
                    "abandoned": 3,
                    "extra": {},
                    "collected_at": now,
                }
                for k in (1, 2)
            ],
        )
        if volunteers is None:
            return
        team = add_team(
            session, valmont.id, name="Renfort", queue=QUEUE, department_id=None, thresholds={}
        )
        for name, phone in volunteers:
            add_member(
                session,
                team,
                add_volunteer(
                    session,
                    valmont.id,
                    name=name,
                    email=f"{name.lower()}@valmont.example",
                    phone=phone,
                ),
            )
