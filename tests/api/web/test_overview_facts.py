"""The overview's accessibility and waiting-time cards carry a line of phone figures, measured
apart from the mentions: hand-computed, in English and French, of the page's authority only,
and gone when another channel is chosen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from ecoute.api.app import create_app
from ecoute.store.authorities import get_authority
from ecoute.store.db import make_session_factory, session_scope
from ecoute.store.models import CallStat
from ecoute.store.sources import add_source
from tests.helpers.dashboard import Dashboard


@pytest.fixture(scope="module")
def phoned(dashboard: Dashboard) -> Iterator[Dashboard]:
    """Two days ago, Valmont's switchboard: 20 and 12 calls offered, 15 and 9 answered, 60 s
    and 100 s of wait, service levels 0.5 and 0.75. The other town lost every call."""
    factory = make_session_factory(dashboard.engine)
    when = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) \
        - timedelta(days=2)
    with session_scope(factory) as session:
        rows = []
        for slug, figures in (("demo", [(20, 15, 60.0, 0.5), (12, 9, 100.0, 0.75)]),
                              ("elsewhere", [(40, 0, 900.0, 0.0)])):
            owner = get_authority(session, slug)
            acd = add_source(session, owner.id, name="standard", kind="call_log", options={})
            for k, (offered, answered, wait, level) in enumerate(figures):
                rows.append({"authority_id": owner.id, "source_id": acd.id, "queue": "Accueil",
                             "interval_start": when + timedelta(minutes=30 * k),
                             "interval_minutes": 30, "offered": offered, "answered": answered,
                             "abandoned": offered - answered, "avg_wait_seconds": wait,
                             "service_level": level, "extra": {}, "collected_at": when})
        session.execute(insert(CallStat), rows)
    yield dashboard


def _cards(client: TestClient, language: str, **params: str) -> dict[str, str]:
    page = client.get("/", params={"window": "30d", **params},
                      headers={"accept-language": language}).text
    cards = dict(re.findall(r'data-determinant="(\w+)">(.*?)</li>', page, flags=re.S))
    return {d: " ".join(re.sub(r"<[^>]+>", " ", html).split()) for d, html in cards.items()}


def test_the_two_cards_carry_the_phone_figures(phoned: Dashboard) -> None:
    client = TestClient(create_app(phoned.settings, phoned.engine))
    cards = _cards(client, "en")
    # 24 of 32 answered (75 %), 8 abandoned (25 %); (60 x 15 + 100 x 9) / 24 = 75 s;
    # (0.5 x 20 + 0.75 x 12) / 32 = 59 %.
    assert ("Phone, measured (not mentions): 75% of 32 calls answered, 25% abandoned"
            in cards["accessibility"])
    assert ("Phone, measured (not mentions): average wait 75 s, service level 59%"
            in cards["waiting_time"])
    assert "Phone" not in cards["courtesy"]
    french = _cards(client, "fr")
    # (The no-break space before % is spaced out with the tags.)
    assert "75 % des 32 appels répondus, 25 % abandonnés" in french["accessibility"]
    assert "attente moyenne 75 s, niveau de service 59 %" in french["waiting_time"]
    assert "Phone" not in _cards(client, "en", channel="review")["accessibility"]
    assert "75% of 32" in _cards(client, "en", channel="phone")["accessibility"]
