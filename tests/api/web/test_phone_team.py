"""The departments page shows the phone back-up teams, whether their queue is overloaded
now, and the effect of their help over the chosen window."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert
from sqlalchemy.orm import sessionmaker

from ecoute.api.app import create_app
from ecoute.assessment.backup_team import answer_call
from ecoute.config.settings import Settings
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import BackupCall, CallStat, PhoneOverload
from ecoute.store.sources import add_source
from ecoute.store.volunteers import add_activation, add_member, add_team, add_volunteer


def test_the_departments_page_shows_the_teams_and_their_effect(
    sqlite_engine: Engine,
) -> None:
    settings = Settings(database_url=sqlite_engine.url.render_as_string(hide_password=False),
                        default_authority="valmont")
    factory = sessionmaker(sqlite_engine, expire_on_commit=False)
    now = datetime.now(timezone.utc)
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont", timezone="Europe/Paris")
        valmont.locale = "fr"
        source = add_source(session, valmont.id, name="acd", kind="call_log", options={})
        team = add_team(session, valmont.id, name="Renfort accueil", queue="Accueil",
                        department_id=None, thresholds={})
        anne = add_volunteer(session, valmont.id, name="Anne", email="anne@v.example")
        add_member(session, team, anne)
        started = now - timedelta(days=2)
        helped = PhoneOverload(authority_id=valmont.id, queue="Accueil", started_at=started,
                               calm_since=started + timedelta(hours=1),
                               ended_at=started + timedelta(hours=1, minutes=30),
                               trigger={"figures": {"abandon_rate": 0.3}})
        still = PhoneOverload(authority_id=valmont.id, queue="Accueil",
                              started_at=now - timedelta(minutes=40),
                              trigger={"figures": {"abandon_rate": 0.25}})
        session.add_all([helped, still])
        session.flush()
        activation = add_activation(session, team, helped.id, started, [anne])
        call = session.query(BackupCall).filter_by(activation_id=activation.id).one()
        answer_call(session, call, accept=True, now=started)
        session.execute(insert(CallStat), [
            {"authority_id": valmont.id, "source_id": source.id, "queue": "Accueil",
             "interval_start": started + timedelta(minutes=15 * k), "interval_minutes": 15,
             "offered": 20, "answered": 18, "abandoned": 2, "avg_wait_seconds": 40.0,
             "extra": {}, "collected_at": now} for k in range(4)])
        since_local = still.started_at.astimezone(ZoneInfo("Europe/Paris"))
    page = TestClient(create_app(settings, sqlite_engine)).get("/departments?window=30d")
    assert page.status_code == 200, page.text
    assert "Renfort téléphonique" in page.text and "Renfort accueil" in page.text
    assert "Saturée depuis" in page.text and f"{since_local:%H:%M}" in page.text
    # The helped overload: 8 of 80 calls abandoned (10 %), 40 s of wait; none without help.
    assert "10\u00a0%" in page.text and "<td>40</td>" in page.text
