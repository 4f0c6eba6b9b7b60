"""How many alerts of an authority are active, on SQLite and PostgreSQL: resolved ones and
another authority's are not counted."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from ecoute.store.alerts import Finding, count_active_alerts, list_alerts, resolve_alert, sync_alerts
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import AlertKind


def _findings(prefix: str, count: int) -> list[Finding]:
    return [Finding(AlertKind.VOLUME_SPIKE, f"volume_spike:{prefix}{i}", f"spike {i}",
                    {"items": i}) for i in range(count)]


def test_active_alerts_are_counted_per_authority(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        here = ensure_authority(session, "valmont")
        there = ensure_authority(session, "autreville")
        assert count_active_alerts(session, here.id) == 0
        sync_alerts(session, here.id, {AlertKind.VOLUME_SPIKE}, _findings("a", 7))
        sync_alerts(session, there.id, {AlertKind.VOLUME_SPIKE}, _findings("b", 3))
        assert count_active_alerts(session, here.id) == 7
        assert count_active_alerts(session, there.id) == 3
        first = list_alerts(session, here.id, limit=1)[0]
        resolve_alert(session, first.id, here.id, by="user:marie")
        assert count_active_alerts(session, here.id) == 6
        assert count_active_alerts(session, here.id) == len(list_alerts(session, here.id))
