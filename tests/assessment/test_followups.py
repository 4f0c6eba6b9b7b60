"""Due dates in the authority's working days and time zone, what is overdue, and the share
answered within the promise."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.followups import followup_views, responsiveness
from ecoute.config.settings import Settings
from ecoute.store.authorities import get_authority
from ecoute.store.db import session_scope
from ecoute.store.followups import change_followup, find_followup
from ecoute.store.models import Item
from tests.helpers.feedback import classify, push

RECORDS = [
    # 23:30 UTC on Friday 6 November is Saturday in Paris: counted from Monday, and
    # Wednesday 11 November is a holiday: 3 working days → Thursday 12.
    {"external_id": "saturday", "text": "Attente.", "channel": "complaint",
     "published_at": "2026-11-06T23:30:00+00:00"},
    # Monday 2 November → Thursday 5.
    {"external_id": "monday", "text": "Attente.", "channel": "complaint",
     "published_at": "2026-11-02T10:00:00+01:00"},
    {"external_id": "tuesday", "text": "Attente.", "channel": "complaint",
     "published_at": "2026-11-03T10:00:00+01:00"},
    {"external_id": "later", "text": "Attente.", "channel": "complaint",
     "published_at": "2026-11-04T10:00:00+01:00"},
]


def test_due_dates_overdue_and_share_within_the_promise(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    settings = settings.model_copy(update={"response_promise_working_days": 3,
                                           "followup_max_age_days": 0})
    push(factory, settings, tmp_path / "in", RECORDS)
    classify(factory, settings)
    today = date(2026, 11, 10)
    with session_scope(factory) as session:
        ids = dict(session.execute(select(Item.external_id, Item.id)).all())
        valmont = get_authority(session, "valmont")
        views = {v.item.external_id: v for v in followup_views(session, valmont, settings,
                                                              today=today)}
        assert views["saturday"].due == date(2026, 11, 12)
        assert views["monday"].due == date(2026, 11, 5)
        monday = find_followup(session, ids["monday"])
        tuesday = find_followup(session, ids["tuesday"])
        later = find_followup(session, ids["later"])
        assert monday and tuesday and later
        # Answered on its due day (Paris), one day late, and one given more time.
        change_followup(session, monday, {"status": "answered"}, actor="t",
                        now=datetime(2026, 11, 5, 22, 30, tzinfo=timezone.utc))
        change_followup(session, tuesday, {"status": "answered"}, actor="t",
                        now=datetime(2026, 11, 9, 8, tzinfo=timezone.utc))
        change_followup(session, later, {"due_on": date(2026, 11, 20)}, actor="t")
        overdue = followup_views(session, valmont, settings, overdue=True, today=today)
        assert overdue == []  # saturday due on the 12th, later on the 20th, the others answered
        later_day = followup_views(session, valmont, settings, overdue=True,
                                   today=date(2026, 11, 13))
        assert [v.item.external_id for v in later_day] == ["saturday"]
        figures = responsiveness(session, valmont, settings, start=date(2026, 11, 1),
                                 end=date(2026, 11, 30), today=date(2026, 11, 13))
        again = {v.item.external_id: v for v in followup_views(session, valmont, settings,
                                                              today=today)}
    assert again["monday"].days_to_answer == 3 and again["monday"].answered_in_time
    assert again["tuesday"].days_to_answer == 4 and again["tuesday"].answered_in_time is False
    assert (figures.received, figures.answered, figures.open, figures.overdue) == (4, 2, 2, 1)
    # Answered in time: monday; missed: tuesday (late) and saturday (past due, unanswered).
    assert (figures.within_promise, figures.due) == (1, 3)
    assert figures.median_days_to_answer == 3.5
    assert figures.interval is not None and figures.interval.low < 1 / 3 < figures.interval.high
