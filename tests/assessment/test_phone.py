"""Overload detection with hysteresis, on a recorded day of 15-minute intervals
(tests/fixtures/call_log/overload_day.csv) that crosses the thresholds back and forth."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings as hsettings, strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.phone import Thresholds, detect, evaluate_queue
from ecoute.collectors.base import CallInterval
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.authorities import ensure_authority
from ecoute.store.call_stats import write_intervals
from ecoute.store.db import session_scope
from ecoute.store.models import CallStat, PhoneOverload
from ecoute.store.phone import QueueInterval
from tests.collectors.file_helpers import collect
from tests.conftest import FIXTURES

DAY = FIXTURES / "call_log" / "overload_day.csv"
QUEUE = "Accueil mairie"


def day_intervals() -> list[QueueInterval]:
    """The recorded day, through the real call_log reader."""
    found = [e for e in collect("call_log", path=str(DAY)) if isinstance(e, CallInterval)]
    return [as_queue_interval(e) for e in found]


def as_queue_interval(e: CallInterval) -> QueueInterval:
    return QueueInterval(
        start=e.interval_start, minutes=e.interval_minutes, offered=e.offered,
        answered=e.answered, abandoned=e.abandoned,
        wait_sum=(e.avg_wait_seconds or 0) * e.answered,
        wait_weight=e.answered if e.avg_wait_seconds is not None else 0,
        max_wait_seconds=e.max_wait_seconds,
        level_sum=(e.service_level or 0) * e.offered,
        level_weight=e.offered if e.service_level is not None else 0, waiting=None)


def minutes_after_opening(at: datetime | None, opening: datetime) -> float | None:
    return None if at is None else (at - opening).total_seconds() / 60


def test_the_recorded_day_makes_exactly_two_overloads_with_hysteresis() -> None:
    intervals = day_intervals()
    assert len(intervals) == 40
    opening = intervals[0].start  # 08:00 local
    state, events = detect(intervals, Thresholds.of(Settings()))
    got = [(e.kind, minutes_after_opening(e.at, opening), sorted(e.trigger),
            minutes_after_opening(e.calm_since, opening)) for e in events]
    assert got == [
        # 08:30-09:00: 9 of 40 calls abandoned (22 %).
        ("start", 60, ["abandon_rate"], None),
        # The rate then hovers around 20 % (15 %, 20 %, 17.5 %, 10 %, 20 %, 17.5 %): calm only
        # from 11:00 (5 %), which lasts the 30 minutes of recovery until 11:30.
        ("end", 210, [], 180),
        # 14:00-14:15: 300 s of average wait; calm again from 14:45.
        ("start", 375, ["avg_wait_seconds"], None),
        ("end", 435, [], 405),
    ]
    # 11:30-12:30 hovers at 17.5 % (not calm, not crossing) and the 17:30-18:00 burst of
    # abandons comes from 8 calls only (below phone_min_offered): neither is an overload.
    assert not state.overloaded


def test_without_hysteresis_the_same_day_flaps() -> None:
    intervals = day_intervals()
    opening = intervals[0].start
    bare = Thresholds.of(Settings(phone_hysteresis_margin=0, phone_recovery_minutes=0))
    _, events = detect(intervals, bare)
    starts = [minutes_after_opening(e.at, opening) for e in events if e.kind == "start"]
    assert starts == [60, 105, 150, 375]


def test_a_team_sets_its_own_thresholds() -> None:
    strict = Thresholds.of(Settings(), {"abandon_rate": 0.5, "avg_wait_seconds": 500,
                                        "unknown": 1})
    assert (strict.abandon_rate, strict.avg_wait_seconds) == (0.5, 500)
    _, events = detect(day_intervals(), strict)
    assert events == []


def _interval(start: datetime, offered: int, abandoned: int, waiting: int | None
              ) -> QueueInterval:
    return QueueInterval(start=start, minutes=15, offered=offered, answered=offered - abandoned,
                         abandoned=abandoned, wait_sum=0, wait_weight=0, max_wait_seconds=None,
                         level_sum=0, level_weight=0, waiting=waiting)


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30),
                          st.one_of(st.none(), st.integers(0, 15))), min_size=1, max_size=40),
       st.integers(1, 39))
def test_judging_in_two_steps_gives_what_one_pass_gives(
    figures: list[tuple[int, int, int | None]], cut: int,
) -> None:
    """The state kept between evaluations is all the detection needs: stopping anywhere and
    going on from the state finds the same overloads; starts and ends alternate."""
    start = datetime(2026, 3, 2, 7, tzinfo=timezone.utc)
    intervals = [_interval(start + timedelta(minutes=15 * k), offered, min(abandoned, offered),
                           waiting) for k, (offered, abandoned, waiting) in enumerate(figures)]
    t = Thresholds.of(Settings())
    whole_state, whole = detect(intervals, t)
    cut_at = intervals[min(cut, len(intervals)) - 1].start + timedelta(minutes=15)
    state, first = detect([i for i in intervals if i.start < cut_at], t)
    state, second = detect(intervals, t, state=state, after=cut_at)
    assert first + second == whole and state == whole_state
    assert [e.kind for e in whole] == ["start", "end"] * (len(whole) // 2) + \
        ["start"] * (len(whole) % 2)


def _import_day(factory: sessionmaker[Session], settings: Settings) -> list[dict[str, Any]]:
    with session_scope(factory) as session:
        source = add_source(session, authority="valmont", name="standard",
                            kind="call_log", options={"path": str(DAY)})
        source_id = source.id
    run_source(factory, settings, source_id)
    with session_scope(factory) as session:
        rows = [{c.name: getattr(s, c.name) for c in CallStat.__table__.columns
                 if c.name not in ("id", "collected_at", "updated_at")}
                for s in session.scalars(select(CallStat).order_by(CallStat.interval_start))]
        session.execute(delete(CallStat))
    return rows


def test_evaluating_as_the_day_goes_records_the_same_two_overloads(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    """Each interval written as the phone system would, the detection run after each one: the
    state kept in the store carries the hysteresis from one evaluation to the next."""
    rows = _import_day(factory, settings)
    assert len(rows) == 40
    t = Thresholds.of(settings)
    opening = rows[0]["interval_start"]
    with session_scope(factory) as session:
        authority_id = ensure_authority(session, "valmont").id
    for row in rows:
        now = row["interval_start"] + timedelta(minutes=15)
        with session_scope(factory) as session:
            write_intervals(session, [row])
            evaluate_queue(session, authority_id, QUEUE, t, now)
        with session_scope(factory) as session:  # evaluating again changes nothing
            changes = evaluate_queue(session, authority_id, QUEUE, t, now)
            assert not changes.opened and not changes.closed
    with session_scope(factory) as session:
        found = [(minutes_after_opening(o.started_at, opening),
                  minutes_after_opening(o.calm_since, opening),
                  minutes_after_opening(o.ended_at, opening), o.trigger["figures"].keys())
                 for o in session.scalars(select(PhoneOverload).order_by(PhoneOverload.id))]
    assert [f[:3] for f in found] == [(60, 180, 210), (375, 405, 435)]
    assert [list(f[3]) for f in found] == [["abandon_rate"], ["avg_wait_seconds"]]


def test_an_overload_at_closing_time_ends_when_the_figures_stop(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    """The last two quarter hours of the day lose a third of their calls; then the line
    records nothing. The overload ends after the recovery time, not the next morning."""
    closing = datetime(2026, 3, 2, 17, 0, tzinfo=timezone.utc)
    t = Thresholds.of(settings)
    with session_scope(factory) as session:
        authority_id = ensure_authority(session, "valmont").id
        source_id = add_source(session, authority="valmont", name="acd", kind="call_log",
                               options={"path": str(DAY.parent)}).id
        write_intervals(session, [
            {"authority_id": authority_id, "source_id": source_id, "queue": QUEUE,
             "interval_start": closing - timedelta(minutes=15 * k), "interval_minutes": 15,
             "offered": 15, "answered": 10, "abandoned": 5, "extra": {}}
            for k in (1, 2)])
        assert evaluate_queue(session, authority_id, QUEUE, t, closing).opened
        for later, closed in ((29, False), (30, True)):
            changes = evaluate_queue(session, authority_id, QUEUE, t,
                                     closing + timedelta(minutes=later))
            assert bool(changes.closed) is closed
        overload = changes.closed[0]
        assert (overload.calm_since, overload.ended_at) == (
            closing, closing + timedelta(minutes=t.recovery_minutes))
        assert not evaluate_queue(session, authority_id, QUEUE, t,
                                  closing + timedelta(hours=15)).closed
