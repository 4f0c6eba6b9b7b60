"""The overview's ratings block: survey answers stored by the runner, shown per scale with the
NPS, CSAT share and mean computed by hand, in English and French, only to the authority's
readers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from ecoute.api.app import create_app
from ecoute.collectors.base import RawItem
from ecoute.collectors.runner import SourceRunner
from ecoute.store.authorities import get_authority
from ecoute.store.db import make_session_factory, session_scope
from ecoute.store.sources import get_source_by_name
from tests.helpers.dashboard import Dashboard, sign_in

#: This week's answers: 0-10 → promoters 10 10 9, passive 8, detractors 3 and 6 (NPS +17);
#: 1-5 → 5 4 4 2 1 (3 satisfied of 5). Forty days ago: 0-10 answers 10 and 2 (NPS 0).
ANSWERS = [(10, "0-10", 1), (10, "0-10", 1), (9, "0-10", 2), (8, "0-10", 2), (3, "0-10", 3),
           (6, "0-10", 3), (5, "1-5", 1), (4, "1-5", 1), (4, "1-5", 2), (2, "1-5", 2),
           (1, "1-5", 3), (10, "0-10", 40), (2, "0-10", 40)]


@pytest.fixture(scope="module")
def rated(dashboard: Dashboard) -> Iterator[Dashboard]:
    factory = make_session_factory(dashboard.engine)
    with session_scope(factory) as session:
        source_id = get_source_by_name(session, get_authority(session, "demo").id,
                                       "avis-accueil").id
    now = datetime.now(timezone.utc) - timedelta(hours=3)
    report = SourceRunner(factory, dashboard.settings).store_entries(source_id, [
        RawItem(external_id=f"note-{n}", text=f"Réponse {n} : {value}", rating_value=value,
                rating_scale=scale, published_at=now - timedelta(days=ago))
        for n, (value, scale, ago) in enumerate(ANSWERS)])
    assert report.new == len(ANSWERS), report
    yield dashboard


def _block(page: str) -> dict[str, str]:
    section = re.search(r'<section class="ratings".*?</section>', page, flags=re.S)
    assert section is not None, "no ratings block"
    return dict(re.findall(r'data-scale="([^"]+)">(.*?)</li>', section.group(0), flags=re.S))


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_ratings_block_in_english(rated: Dashboard) -> None:
    client = TestClient(create_app(rated.settings, rated.engine))
    page = client.get("/", params={"window": "30d"}, headers={"accept-language": "en"}).text
    assert "Ratings and surveys" in page
    cards = {scale: _text(html) for scale, html in _block(page).items()}
    assert set(cards) == {"0-10", "1-5"}
    nps = cards["0-10"]
    # (3 − 2) / 6 = +16.7; ± 1.96 × √((5/6 − (1/6)²) / 6) = ± 71.3 points.
    assert "NPS +17" in nps and "95 % interval −55 to +88" in nps
    assert "3 promoters, 1 passives, 2 detractors" in nps
    assert "Satisfied: 50%" in nps and "6 answers" in nps
    # Forty days ago (the previous 30 days): NPS 0, so +16.7 points.
    assert "NPS +16.7 points against the previous period" in nps
    stars = cards["1-5"]
    # 1 .75 .75 .25 0 → 55 % of the scale; 3 of 5 satisfied.
    assert "Satisfied: 60%" in stars and "Average: 55% of the scale" in stars
    assert "NPS" not in stars and "No answers in the previous period" in stars


def test_ratings_block_in_french_and_below_the_minimum(rated: Dashboard) -> None:
    client = TestClient(create_app(rated.settings.model_copy(update={"min_sample_size": 6}),
                                   rated.engine))
    page = client.get("/", params={"window": "30d"}, headers={"accept-language": "fr"}).text
    assert "Notes et enquêtes" in page
    cards = {scale: _text(html) for scale, html in _block(page).items()}
    assert "NPS +17" in cards["0-10"] and "3 promoteurs, 1 passifs, 2 détracteurs" in cards["0-10"]
    assert "Satisfaits : 50 %" in cards["0-10"]  # the no-break space, spaced out
    assert "Pas assez de données" in cards["1-5"] and "5 réponses (6 nécessaires)" in cards["1-5"]


def test_ratings_follow_the_filters_and_the_authority(rated: Dashboard) -> None:
    client = TestClient(create_app(rated.settings, rated.engine))
    requests_only = client.get("/", params={"window": "30d", "channel": "service_request"})
    assert requests_only.status_code == 200 and 'class="ratings"' not in requests_only.text
    stranger = TestClient(create_app(rated.settings.model_copy(
        update={"api_anonymous_read": False}), rated.engine))
    sign_in(stranger, "stranger")
    page = stranger.get("/", params={"window": "30d"})
    assert page.status_code == 200 and "Autre ville" in page.text
    assert 'class="ratings"' not in page.text
