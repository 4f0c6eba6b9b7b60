"""Response times from the cases' own dates, against values computed by hand (Paris time,
French holidays of May 2026: Friday 8, Ascension Thursday 14)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.statistics import wilson_interval
from ecoute.assessment.responsiveness import response_times
from ecoute.assessment.satisfaction import Window
from ecoute.assessment.working_days import WorkingCalendar
from ecoute.store.authorities import Places, ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import Item
from ecoute.store.sources import add_source


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


#: name: (received, answered, closed, department, site). Working days to answer, by hand:
CASES: dict[str, tuple[Any, ...]] = {
    # Monday 10:00 → Tuesday: 1 (31 h); closed Tuesday 12 May: 5 (8 is off), 8.0 days.
    "A": (utc(2026, 5, 4, 8), utc(2026, 5, 5, 15), utc(2026, 5, 12, 8), "Voirie", "Annexe"),
    # Monday 23:30 Paris → Wednesday 00:30 Paris: 2 (12, 13); in UTC dates it would be 1.
    "B": (utc(2026, 5, 11, 21, 30), utc(2026, 5, 12, 22, 30), None, "Voirie", None),
    # Friday → Monday: 1 (3.0 days).
    "C": (utc(2026, 5, 15, 10), utc(2026, 5, 18, 10), None, "Eau", "Annexe"),
    # Wednesday → Monday over Ascension: 2 (15, 18), 5.0 days.
    "D": (utc(2026, 5, 13, 8), utc(2026, 5, 18, 8), None, "Eau", None),
    # Unanswered since Monday 4 May: 10 working days by 20 May, overdue.
    "E": (utc(2026, 5, 4, 9), None, None, "Eau", None),
    # Unanswered since Tuesday 19: 1 working day by 20 May, not yet overdue.
    "F": (utc(2026, 5, 19, 9), None, None, None, None),
    # 30 April 23:30 UTC is 1 May 01:30 in Paris: in the window. Answered Monday 4: 1
    # (1 May is off, then the weekend), 3 days 6.5 h.
    "G": (utc(2026, 4, 30, 23, 30), utc(2026, 5, 4, 6), None, None, None),
    # 30 April 21:00 UTC is 23:00 in Paris: before the window.
    "H": (utc(2026, 4, 30, 21), utc(2026, 5, 4, 6), None, None, None),
}


@pytest.fixture
def cases(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        authority = ensure_authority(session, "demo", timezone="Europe/Paris")
        other = ensure_authority(session, "autreville")
        source = add_source(session, authority.id, name="requests", kind="open311", options={})
        elsewhere = add_source(session, other.id, name="requests", kind="open311", options={})
        rows = []
        places = Places(authority.id)
        for name, (received, answered, closed, department, site) in CASES.items():
            rows.append({
                "authority_id": authority.id, "source_id": source.id, "external_id": name,
                "content_hash": name, "channel": "service_request", "text": name, "extra": {},
                "received_at": received, "answered_at": answered, "closed_at": closed,
                "published_at": received,
                "department_id": places.department_id(session, department),
                "site_id": places.site_id(session, site)})
        # Another authority's case and an item that is no case never count.
        rows.append({**rows[0], "authority_id": other.id, "source_id": elsewhere.id})
        rows.append({**rows[0], "external_id": "review", "received_at": None,
                     "answered_at": None, "closed_at": None})
        session.execute(insert(Item), rows)


def test_response_times_by_hand(factory: sessionmaker[Session], cases: None) -> None:
    with session_scope(factory) as session:
        authority = ensure_authority(session, "demo")
        report = response_times(
            session, authority, Window(date(2026, 5, 1), date(2026, 5, 20)),
            promise_working_days=1, calendar=WorkingCalendar("FR"), min_sample_size=6,
            now=utc(2026, 5, 20, 12))
    overall = report.overall
    assert (overall.received, overall.unanswered, overall.overdue, overall.open) == (7, 2, 1, 6)
    # Answered A, B, C, D, G in 1, 2, 1, 2, 1 working days; within 1: A, C, G.
    answer = overall.to_answer
    assert answer.count == 5
    assert (answer.median_working_days, answer.p90_working_days) == (1.0, 2.0)
    # 25 h, 31 h, 3.0 days, 3 days 6.5 h, 5.0 days: median 3.0; p90 = 3.2708 + 0.6 × 1.7292.
    assert (answer.median_days, answer.p90_days) == (3.0, 4.31)
    assert (overall.to_close.count, overall.to_close.median_days,
            overall.to_close.median_working_days) == (1, 8.0, 5.0)
    # Judged: the 5 answered and E (overdue); F is still within the promise.
    assert (overall.within_promise, overall.judged) == (3, 6)
    assert overall.share_within_promise == 0.5 and overall.sufficient
    assert overall.interval == wilson_interval(3, 6)
    departments = {f.name: f for f in report.departments}
    assert set(departments) == {"Eau", "Voirie"}
    assert (departments["Voirie"].received, departments["Voirie"].within_promise,
            departments["Voirie"].judged) == (2, 1, 2)
    assert (departments["Eau"].received, departments["Eau"].overdue,
            departments["Eau"].within_promise, departments["Eau"].judged) == (3, 1, 1, 3)
    assert not departments["Eau"].sufficient
    [annex] = report.sites
    assert (annex.name, annex.received, annex.to_answer.median_working_days) == ("Annexe", 2, 1.0)


def test_a_longer_promise_and_holidays_change_the_verdicts(
    factory: sessionmaker[Session], cases: None,
) -> None:
    window = Window(date(2026, 5, 1), date(2026, 5, 20))
    with session_scope(factory) as session:
        authority = ensure_authority(session, "demo")
        two = response_times(session, authority, window, promise_working_days=2,
                             calendar=WorkingCalendar("FR"), now=utc(2026, 5, 20, 12))
        # Without holidays, D takes 3 working days (14 and 15 count); G still 1 (its day of
        # receipt, 1 May, never counts).
        weekdays = response_times(session, authority, window, promise_working_days=2,
                                  calendar=WorkingCalendar("none"), now=utc(2026, 5, 20, 12))
    assert (two.overall.within_promise, two.overall.judged) == (5, 6)
    assert (weekdays.overall.within_promise, weekdays.overall.judged) == (4, 6)
    assert weekdays.overall.to_answer.p90_working_days == 2.6
