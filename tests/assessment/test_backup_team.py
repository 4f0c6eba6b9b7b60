"""Who is called, the volunteers' hours as full-time equivalents (hand-computed), and the
effect of the team measured against the overloads nobody helped with."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.backup_effect import backup_effect
from ecoute.assessment.backup_team import answer_call, available, declare_minutes
from ecoute.assessment.volunteer_hours import hours_report, to_csv, to_xlsx
from ecoute.config.settings import Settings
from ecoute.errors import Conflict
from ecoute.store.authorities import Places, ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import BackupCall, CallStat, CallStatus, PhoneOverload, Volunteer
from ecoute.store.sources import add_source
from ecoute.store.volunteers import add_activation, add_team, add_volunteer, close_activation

UTC = timezone.utc


def test_availability_is_read_in_the_authoritys_week() -> None:
    anne = Volunteer(active=True, availability=[{"weekday": 0, "start": "08:30",
                                                 "end": "12:00"}])
    monday = datetime(2026, 3, 2, 8, 30)
    assert available(anne, monday) and available(anne, monday.replace(hour=11, minute=59))
    assert not available(anne, monday.replace(hour=12))
    assert not available(anne, monday + timedelta(days=1))
    assert available(Volunteer(active=True, availability=[]), monday)
    assert not available(Volunteer(active=False, availability=[]), monday)


def _overload(session: Session, authority_id: int, queue: str, start: datetime,
              calm: datetime, end: datetime) -> PhoneOverload:
    overload = PhoneOverload(authority_id=authority_id, queue=queue, started_at=start,
                             calm_since=calm, ended_at=end, trigger={"figures": {}})
    session.add(overload)
    session.flush()
    return overload


def _call(session: Session, activation_id: int, volunteer_id: int) -> BackupCall:
    found = session.query(BackupCall).filter_by(activation_id=activation_id,
                                                volunteer_id=volunteer_id).one()
    return found


def test_hours_and_full_time_equivalents_of_a_month(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    """Anne (Accueil): 90 minutes accepted on 3 February, 150 minutes on 10 February; Bruno
    (Urbanisme): 60 minutes declared on 10 February, and a call that started at 23:30 on
    31 January in Paris (22:30 UTC), which counts in January; Chloé declined."""
    settings = settings.model_copy(update={"fte_hours_per_month": 160.0})
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        places = Places(valmont.id)
        anne = add_volunteer(session, valmont.id, name="Anne", email="anne@v.example",
                             department_id=places.department_id(session, "Accueil"))
        bruno = add_volunteer(session, valmont.id, name="Bruno", email="bruno@v.example",
                              department_id=places.department_id(session, "Urbanisme"))
        chloe = add_volunteer(session, valmont.id, name="Chloé", email="chloe@v.example")
        team = add_team(session, valmont.id, name="Renfort", queue="Accueil",
                        department_id=None, thresholds={})
        days = [(datetime(2026, 2, 3, 9, tzinfo=UTC), 90), (datetime(2026, 2, 10, 9,
                                                                      tzinfo=UTC), 150),
                (datetime(2026, 1, 31, 22, 30, tzinfo=UTC), 120)]
        for start, minutes in days:
            end = start + timedelta(minutes=minutes)
            overload = _overload(session, valmont.id, "Accueil", start, end, end)
            activation = add_activation(session, team, overload.id, start, [anne, bruno, chloe])
            if start.day == 3:
                answer_call(session, _call(session, activation.id, anne.id), accept=True,
                            now=start - timedelta(minutes=5))  # before the start: from it
            if start.day == 10:
                answer_call(session, _call(session, activation.id, anne.id), accept=True,
                            now=start)
                declare_minutes(_call(session, activation.id, bruno.id), 60)
            if start.day == 31:
                answer_call(session, _call(session, activation.id, bruno.id), accept=True,
                            now=start)
            answer_call(session, _call(session, activation.id, chloe.id), accept=False,
                        now=start)
            close_activation(session, activation, end)
            with pytest.raises(Conflict):  # too late to accept an activation that is over
                answer_call(session, _call(session, activation.id, chloe.id), accept=True,
                            now=end)
        february = hours_report(session, valmont, settings, date(2026, 2, 1), end)
        january = hours_report(session, valmont, settings, date(2026, 1, 1), end)
    rows = {r.name: (r.department, r.calls, r.hours, r.fte) for r in february.volunteers}
    assert rows == {"Anne": ("Accueil", 2, 4.0, 0.025), "Bruno": ("Urbanisme", 1, 1.0, 0.0063)}
    assert [(d.department, d.volunteers, d.hours, d.fte) for d in february.departments] == [
        ("Accueil", 1, 4.0, 0.025), ("Urbanisme", 1, 1.0, 0.0063)]
    assert (february.hours, february.fte) == (5.0, 0.0312)  # 5 / 160 = 0.03125
    assert [(r.name, r.hours) for r in january.volunteers] == [("Bruno", 2.0)]

    lines = to_csv(february).splitlines()
    assert lines == ["volunteer;email;department;calls;hours;fte",
                     "Anne;anne@v.example;Accueil;2;4.0;0.025",
                     "Bruno;bruno@v.example;Urbanisme;1;1.0;0.0063", "",
                     "department;volunteers;hours;fte", "Accueil;1;4.0;0.025",
                     "Urbanisme;1;1.0;0.0063", "total;2;5.0;0.0312"]
    book = load_workbook(io.BytesIO(to_xlsx(february)))
    assert list(book["departments"].iter_rows(values_only=True))[:4] == [
        ("department", "volunteers", "hours", "fte"), ("Accueil", 1, 4.0, 0.025),
        ("Urbanisme", 1, 1.0, 0.0063), ("total", 2, 5.0, 0.0312)]
    assert "160.0 hours" in str(book["departments"]["A6"].value)


def test_the_effect_compares_helped_overloads_with_the_others(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    """Two overloads of two hours: the one Anne helped with lost 10 of 102 calls with 60 s
    of wait; the other (nobody accepted) 30 of 102 with 180 s. The hour of recovery after
    each (200 calls, 5 s of wait) is not overload and does not count."""
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        source = add_source(session, valmont.id, name="acd", kind="call_log", options={})
        anne = add_volunteer(session, valmont.id, name="Anne", email="anne@v.example")
        team = add_team(session, valmont.id, name="Renfort", queue="Accueil",
                        department_id=None, thresholds={})
        rows: list[dict[str, Any]] = []
        for day, (abandoned, wait) in enumerate([(10, 60.0), (30, 180.0)]):
            first = start + timedelta(days=day)
            overload = _overload(session, valmont.id, "Accueil", first,
                                 first + timedelta(hours=2), first + timedelta(hours=3))
            activation = add_activation(session, team, overload.id, first, [anne])
            if day == 0:
                answer_call(session, _call(session, activation.id, anne.id), accept=True,
                            now=first)
            # 8 quarter hours of the overload, then an hour of recovery that does not count.
            for k in range(12):
                busy, recovery = k < 4, k >= 8
                offered = 25 if busy else 50 if recovery else 0
                lost = abandoned // 4 if busy else 0
                rows.append({"authority_id": valmont.id, "source_id": source.id,
                             "queue": "Accueil",
                             "interval_start": first + timedelta(minutes=15 * k),
                             "interval_minutes": 15, "offered": offered,
                             "answered": offered - lost, "abandoned": lost,
                             "avg_wait_seconds": wait if busy else 5.0 if recovery else None,
                             "extra": {}, "collected_at": first})
            rows[-12 + 4]["abandoned"] += abandoned % 4  # the remainder in the 5th interval
            rows[-12 + 4]["offered"] += abandoned % 4
        session.execute(insert(CallStat), rows)
        effect = backup_effect(session, valmont.id, start, start + timedelta(days=7),
                               start + timedelta(days=7))
        other = backup_effect(session, valmont.id, start, start + timedelta(days=7),
                              start + timedelta(days=7), queue="Urbanisme")
    assert (effect.helped.overloads, effect.alone.overloads) == (1, 1)
    assert (effect.helped.minutes, effect.alone.minutes) == (120, 120)
    assert (effect.helped.figures.offered, effect.helped.figures.abandoned) == (102, 10)
    assert (effect.alone.figures.offered, effect.alone.figures.abandoned) == (102, 30)
    assert effect.helped.figures.avg_wait_seconds == pytest.approx(60.0)
    assert effect.avg_wait_difference_seconds == pytest.approx(-120.0)
    assert effect.abandon_rate_difference == pytest.approx(10 / 102 - 30 / 102)
    assert other.helped.overloads == other.alone.overloads == 0
    assert other.abandon_rate_difference is None


def test_a_call_status_stays_with_the_volunteers_answer() -> None:
    call = BackupCall(status=CallStatus.NOTIFIED)
    declare_minutes(call, 45)
    assert (call.status, call.declared_minutes) == (CallStatus.ACCEPTED, 45)
    declare_minutes(call, None)
    assert call.declared_minutes is None
