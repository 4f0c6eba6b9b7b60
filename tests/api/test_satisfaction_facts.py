"""Phone figures as facts beside the mentions of accessibility and waiting time in
/api/v1/satisfaction: hand-computed, over the window's local days, of the key's authority
only, and never mixed into the share of positive mentions."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.assessment.call_facts import call_facts
from ecoute.config.settings import Settings
from ecoute.domain import DeterminantMention, Prediction, SentimentScores
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import Places, ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import CallStat, Item, Source
from ecoute.store.taggings import record_predictions

UTC = timezone.utc
NEGATIVE = SentimentScores(0.8, 0.1, 0.1)


def _interval(authority_id: int, source_id: int, start: datetime, offered: int,
              answered: int, abandoned: int, wait: float | None, level: float | None,
              department_id: int | None = None) -> dict[str, Any]:
    return {"authority_id": authority_id, "source_id": source_id, "queue": "Accueil",
            "interval_start": start, "interval_minutes": 15, "offered": offered,
            "answered": answered, "abandoned": abandoned, "avg_wait_seconds": wait,
            "service_level": level, "department_id": department_id, "extra": {},
            "collected_at": start}


def _fill(factory: sessionmaker[Session]) -> dict[str, str]:
    """Valmont's March: three intervals (one on 1 March 00:30 in Paris, which is still
    February in UTC), one on 1 April 00:30 that is not March; one negative mention of
    accessibility. Autreville loses every call in March."""
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont", timezone="Europe/Paris")
        accueil = Places(valmont.id).department_id(session, "Accueil")
        acd = Source(authority_id=valmont.id, kind="call_log", name="acd")
        feed = Source(authority_id=valmont.id, kind="push", name="avis")
        other = ensure_authority(session, "autreville", timezone="Europe/Paris")
        other_acd = Source(authority_id=other.id, kind="call_log", name="acd")
        session.add_all([acd, feed, other_acd])
        session.flush()
        session.execute(insert(CallStat), [
            _interval(valmont.id, acd.id, datetime(2026, 3, 10, 8, tzinfo=UTC), 20, 16, 4,
                      60.0, 0.5, accueil),
            _interval(valmont.id, acd.id, datetime(2026, 3, 10, 8, 15, tzinfo=UTC), 10, 9, 1,
                      30.0, 0.9),
            _interval(valmont.id, acd.id, datetime(2026, 2, 28, 23, 30, tzinfo=UTC), 10, 5, 5,
                      None, None),
            _interval(valmont.id, acd.id, datetime(2026, 3, 31, 22, 30, tzinfo=UTC), 50, 0, 50,
                      500.0, 0.0),
            _interval(other.id, other_acd.id, datetime(2026, 3, 10, 8, tzinfo=UTC), 100, 0,
                      100, 900.0, 0.0),
        ])
        item = Item(authority_id=valmont.id, source_id=feed.id, external_id="1",
                    content_hash="1", channel="review", text="impossible de joindre",
                    lang="fr", published_at=datetime(2026, 3, 12, 9, tzinfo=UTC),
                    collected_at=datetime(2026, 3, 12, 9, tzinfo=UTC))
        session.add(item)
        session.flush()
        record_predictions(session, [item], [Prediction(sentiment=NEGATIVE, determinants=[
            DeterminantMention("accessibility", "negative", 0.9, 0, 10)])],
            model_name="m", model_version="1")
        return {"valmont": create_key(session, role="viewer", authority=valmont)[1],
                "autreville": create_key(session, role="viewer", authority=other)[1],
                "accueil": str(accueil)}


@pytest.fixture
def api(engine: Engine, factory: sessionmaker[Session], settings: Settings,
        tmp_path: Path) -> tuple[TestClient, dict[str, str]]:
    keys = _fill(factory)
    app = create_app(settings.model_copy(update={"data_dir": tmp_path / "data"}), engine)
    return TestClient(app), keys


def _determinants(api: tuple[TestClient, dict[str, str]], key: str,
                  **params: Any) -> dict[str, Any]:
    client, keys = api
    answer = client.get("/api/v1/satisfaction", params={"window": "2026-03", **params},
                        headers={"Authorization": f"Bearer {keys[key]}"})
    assert answer.status_code == 200, answer.text
    return {d["determinant"]: d for d in answer.json()["determinants"]}


def test_facts_sit_beside_the_mentions_of_their_two_determinants(api: Any) -> None:
    figures = _determinants(api, "valmont")
    access, waiting = figures["accessibility"], figures["waiting_time"]
    # 40 calls offered, 30 answered, 10 abandoned over March's local days.
    assert access["facts"]["figures"] == {"answer_rate": 0.75, "abandon_rate": 0.25}
    assert (access["facts"]["calls_offered"], access["facts"]["intervals"]) == (40, 3)
    assert access["facts"]["source"] == "phone_calls"
    assert access["facts"]["start"].startswith("2026-02-28T23:00")
    assert access["facts"]["end"].startswith("2026-03-31T22:00")
    # (60 s x 16 + 30 s x 9) / 25 answered; (0.5 x 20 + 0.9 x 10) / 30 offered.
    assert waiting["facts"]["figures"]["avg_wait_seconds"] == pytest.approx(49.2)
    assert waiting["facts"]["figures"]["service_level"] == pytest.approx(19 / 30)
    # The mentions are what people wrote, untouched by the calls.
    assert (access["positive"], access["negative"], access["n"]) == (0, 1, 1)
    assert access["share_positive"] == 0.0 and waiting["n"] == 0
    assert all(figures[d]["facts"] is None for d in figures
               if d not in ("accessibility", "waiting_time"))


def test_facts_follow_the_filters_and_the_authority(api: Any) -> None:
    client, keys = api
    accueil = _determinants(api, "valmont", department_id=keys["accueil"])
    assert accueil["accessibility"]["facts"]["figures"] == {"answer_rate": 0.8,
                                                            "abandon_rate": 0.2}
    assert accueil["waiting_time"]["facts"]["figures"] == {"avg_wait_seconds": 60.0,
                                                           "service_level": 0.5}
    assert _determinants(api, "valmont", channel="review")["accessibility"]["facts"] is None
    assert _determinants(api, "valmont", channel="phone")["accessibility"]["facts"] is not None
    assert _determinants(api, "valmont", window="2026-01")["accessibility"]["facts"] is None
    other = _determinants(api, "autreville")["accessibility"]["facts"]
    assert other["figures"] == {"answer_rate": 0.0, "abandon_rate": 1.0}
    assert other["calls_offered"] == 100


def test_call_facts_of_april_start_at_local_midnight(
    factory: sessionmaker[Session], api: Any,
) -> None:
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        april = call_facts(session, valmont, date(2026, 4, 1), date(2026, 4, 30))
    assert april is not None and april.calls.offered == 50
    assert april.of("accessibility") == {"answer_rate": 0.0, "abandon_rate": 1.0}
    assert april.of("courtesy") is None
