"""Alerts: each condition fires on a synthetic case, stays silent on noise and small samples,
resolves when it clears, is raised once while active, and belongs to one authority."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.alerts import evaluate_alerts
from ecoute.assessment.backup_team import evaluate_phone
from ecoute.collectors.schedules import nth_fire_after
from ecoute.config.settings import Settings
from ecoute.domain import OVERALL
from ecoute.store.alerts import Finding, list_alerts, resolve_alert, sync_alerts
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import Alert, AlertKind, Authority, CallStat, Source
from ecoute.store.sources import add_source
from ecoute.store.taggings import Counts, _apply

NOW = datetime(2026, 6, 30, 10, tzinfo=UTC)
TODAY = date(2026, 6, 30)
DROP = AlertKind.DETERMINANT_DROP


def _rollup(session: Session, authority: Authority, days: range, determinant: str,
            pos: int, neg: int, channel: str = "review") -> None:
    """Spread ``pos`` and ``neg`` mentions evenly over the days ``TODAY - d`` for d in days."""
    each = len(days)
    for k, d in enumerate(days):
        share_pos = pos // each + (1 if k < pos % each else 0)
        share_neg = neg // each + (1 if k < neg % each else 0)
        key = (authority.id, TODAY - timedelta(days=d), determinant, channel, 0, 0, 0, "")
        _apply(session, {key: Counts(pos=share_pos, neg=share_neg)})


def _evaluate(factory: sessionmaker[Session], settings: Settings, slug: str = "demo",
              now: datetime = NOW, kinds: tuple[str, ...] | None = None) -> list[Alert]:
    with session_scope(factory) as session:
        authority = ensure_authority(session, slug)
        evaluate_alerts(session, authority, settings, now=now, silence_deadline=nth_fire_after,
                        kinds=kinds)
        return list_alerts(session, authority.id, active=None)


def test_a_significant_drop_fires_and_resolves_when_it_clears(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    with session_scope(factory) as session:
        demo = ensure_authority(session, "demo")
        _rollup(session, demo, range(7, 35), "courtesy", pos=80, neg=20)  # 80 % before
        _rollup(session, demo, range(7), "courtesy", pos=40, neg=60)   # 40 % this week
    [alert] = _evaluate(factory, settings, kinds=(DROP,))
    assert (alert.kind, alert.key, alert.resolved_at) == (DROP, "determinant_drop:courtesy",
                                                          None)
    assert alert.title.startswith("Courtesy: 40% positive over the last 7 days, down from 80%")
    figures = alert.figures
    assert (figures["n"], figures["baseline_n"], figures["positive"]) == (100, 100, 40)
    assert figures["drop"] == pytest.approx(0.4) and figures["p_value"] < 1e-6
    assert figures["window"] == ["2026-06-24", "2026-06-30"]
    assert figures["baseline"] == ["2026-05-27", "2026-06-23"]
    # Found again: the same alert, refreshed, not a second one.
    [again] = _evaluate(factory, settings, now=NOW + timedelta(hours=1), kinds=(DROP,))
    assert again.id == alert.id and again.last_seen_at > alert.last_seen_at
    # Praise comes back this week: 200 positive of 260 (77 %, 3 points under 80 %): the
    # alert clears by itself.
    with session_scope(factory) as session:
        _rollup(session, ensure_authority(session, "demo"), range(7), "courtesy", pos=160,
                neg=0)
    [cleared] = _evaluate(factory, settings, now=NOW + timedelta(hours=2), kinds=(DROP,))
    assert cleared.id == alert.id and cleared.resolved_at is not None
    assert cleared.resolved_by is None and cleared.cleared_at == cleared.resolved_at


@pytest.mark.parametrize(("before", "now", "why"), [
    ((80, 20), (2, 3), "40 % positive, but 5 mentions: under min_sample_size"),
    ((80, 20), (70, 30), "10 points lower on 100 mentions each: p = 0.10, noise"),
    ((8000, 2000), (7300, 2700), "7 points lower, significant, under alert_min_drop"),
])
def test_no_alert_on_noise_or_small_samples(
    factory: sessionmaker[Session], settings: Settings, before: tuple[int, int],
    now: tuple[int, int], why: str,
) -> None:
    with session_scope(factory) as session:
        demo = ensure_authority(session, "demo")
        _rollup(session, demo, range(7, 35), "waiting_time", *before)
        _rollup(session, demo, range(7), "waiting_time", *now)
    assert _evaluate(factory, settings, kinds=(DROP,)) == [], why


def test_a_person_resolves_an_alert_and_it_stays_quiet_until_its_condition_clears(
    factory: sessionmaker[Session],
) -> None:
    finding = Finding(DROP, "determinant_drop:courtesy", "Courtesy fell", {"n": 100})
    with session_scope(factory) as session:
        demo = ensure_authority(session, "demo")
        first = sync_alerts(session, demo.id, [DROP], [finding], now=NOW)
        assert first.raised == ["determinant_drop:courtesy"]
        [alert] = list_alerts(session, demo.id)
        resolve_alert(session, alert.id, demo.id, by="officer", now=NOW)
        quiet = sync_alerts(session, demo.id, [DROP], [finding], now=NOW)
        assert (quiet.raised, list_alerts(session, demo.id)) == ([], [])
        sync_alerts(session, demo.id, [DROP], [], now=NOW)  # the condition clears...
        back = sync_alerts(session, demo.id, [DROP], [finding], now=NOW)  # ...and returns
        assert back.raised == ["determinant_drop:courtesy"]
        assert [a.resolved_by for a in list_alerts(session, demo.id, active=None)] == [
            None, "officer"]
        # Kinds not evaluated are left alone.
        assert sync_alerts(session, demo.id, [AlertKind.VOLUME_SPIKE], [], now=NOW).cleared == []
        # The database itself refuses a second active alert of a key.
        with pytest.raises(IntegrityError), session.begin_nested():
            session.execute(insert(Alert).values(
                authority_id=demo.id, kind=DROP, key="determinant_drop:courtesy", title="t",
                figures={}, raised_at=NOW, last_seen_at=NOW))


def test_a_volume_spike_against_the_fourteen_days_before(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    with session_scope(factory) as session:
        demo = ensure_authority(session, "demo")
        for d in range(1, 15):
            _rollup(session, demo, range(d, d + 1), OVERALL, pos=4, neg=6)  # 10 a day
        _rollup(session, demo, range(1), OVERALL, pos=3, neg=12)  # 15 today: 1.5x
        _rollup(session, demo, range(1), OVERALL, pos=0, neg=20, channel="phone")
    alerts = {a.key: a for a in _evaluate(factory, settings,
                                          kinds=(AlertKind.VOLUME_SPIKE,))}
    # 35 today against 10 a day: all channels together and the phone alone (0 before: no
    # usual rhythm to compare with, no alert); reviews alone (15) stay under twice 10.
    assert set(alerts) == {"volume_spike:all"}
    figures = alerts["volume_spike:all"].figures
    assert (figures["items"], figures["baseline_mean"], figures["day"]) == (35, 10.0,
                                                                           "2026-06-30")
    assert figures["p_value"] < 1e-6


def test_a_silent_source_and_a_phone_overload(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    with session_scope(factory) as session:
        demo = ensure_authority(session, "demo")
        hourly = add_source(session, demo.id, name="avis", kind="rss", options={},
                            schedule="every 1 hour")
        recent = add_source(session, demo.id, name="recent", kind="rss", options={},
                            schedule="every 1 hour")
        manual = add_source(session, demo.id, name="push", kind="push", options={},
                            schedule="manual")
        off = add_source(session, demo.id, name="off", kind="rss", options={},
                         schedule="every 1 hour")
        hourly.last_success_at = NOW - timedelta(hours=3, minutes=1)  # 3 runs missed
        hourly.last_error = "cannot read the feed"
        recent.last_success_at = NOW - timedelta(hours=2, minutes=59)
        manual.last_success_at = off.last_success_at = NOW - timedelta(days=30)
        off.enabled = False
        calls = add_source(session, demo.id, name="acd", kind="call_log", options={})
        start = NOW - timedelta(hours=30)
        session.execute(insert(CallStat), [
            {"authority_id": demo.id, "source_id": calls.id, "queue": queue,
             "interval_start": start + timedelta(hours=h), "interval_minutes": 60,
             "offered": offered, "answered": offered - abandoned, "abandoned": abandoned,
             "extra": {}, "collected_at": NOW}
            # Urbanisme loses every call, but one call an hour says nothing of an overload.
            for queue, offered, abandoned, hours in (("Accueil", 10, 3, 30),
                                                      ("Urbanisme", 1, 1, 19))
            for h in range(30 - hours, 30)])
        hourly_id = hourly.id
        # The alert reports what the overload detection holds, not a rule of its own.
        evaluate_phone(session, demo, settings, NOW)
    alerts = {a.key: a for a in _evaluate(factory, settings, kinds=(
        AlertKind.SOURCE_SILENT, AlertKind.PHONE_OVERLOAD))}
    assert set(alerts) == {f"source_silent:{hourly_id}", "phone_overload:Accueil"}
    silent = alerts[f"source_silent:{hourly_id}"]
    assert "'avis'" in silent.title and "cannot read the feed" in silent.title
    phone = alerts["phone_overload:Accueil"]
    # From the first interval: 3 of 10 calls abandoned (the 30-minute window holds one hourly
    # interval), at its end.
    assert phone.figures["trigger"] == {"abandon_rate": pytest.approx(0.3)}
    assert phone.figures["since"] == (start + timedelta(hours=1)).isoformat()
    assert "abandon rate 30%" in phone.title
    with session_scope(factory) as session:
        source = session.get(Source, hourly_id)
        assert source is not None
        source.last_success_at = NOW
    left = {a.key: a.resolved_at for a in _evaluate(factory, settings, kinds=(
        AlertKind.SOURCE_SILENT,))}
    assert left[f"source_silent:{hourly_id}"] is not None  # cleared
    assert left["phone_overload:Accueil"] is None  # not evaluated this time: untouched


def test_alerts_are_scoped_to_their_authority(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    with session_scope(factory) as session:
        other = ensure_authority(session, "autreville")
        ensure_authority(session, "demo")
        _rollup(session, other, range(7, 35), "courtesy", pos=80, neg=20)
        _rollup(session, other, range(7), "courtesy", pos=40, neg=60)
    assert _evaluate(factory, settings, "demo") == []
    assert [a.key for a in _evaluate(factory, settings, "autreville")] == [
        "determinant_drop:courtesy"]
    with session_scope(factory) as session:
        alert = session.scalars(select(Alert)).one()
        demo = ensure_authority(session, "demo")
        from ecoute.errors import AlertNotFound

        with pytest.raises(AlertNotFound):
            resolve_alert(session, alert.id, demo.id, by="someone")
