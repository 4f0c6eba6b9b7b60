"""/api/v1/satisfaction with calendar windows, from/to, group_by and comparisons, and
/api/v1/satisfaction/timeseries, against figures computed by hand from known items."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.assessment.volumes import channel_volumes
from ecoute.assessment.windows import Window
from ecoute.config.settings import Settings
from ecoute.domain import DeterminantMention, Prediction, SentimentScores
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import Item, Source
from ecoute.store.taggings import record_predictions

Z2 = 1.959963984540054 ** 2
SCORES = {"positive": SentimentScores(0.1, 0.1, 0.8), "negative": SentimentScores(0.8, 0.1, 0.1),
          "neutral": SentimentScores(0.1, 0.8, 0.1)}
UTC = timezone.utc


class Feed:
    """Items of one authority, each with its sentiment and determinant mentions."""

    def __init__(self, session: Session, slug: str) -> None:
        self.session = session
        self.authority = ensure_authority(session, slug, timezone="Europe/Paris")
        self.sources: dict[str, int] = {}
        self.items: list[Item] = []
        self.predictions: list[Prediction] = []

    def source(self, name: str) -> int:
        if name not in self.sources:
            source = Source(authority_id=self.authority.id, kind="push", name=name)
            self.session.add(source)
            self.session.flush()
            self.sources[name] = source.id
        return self.sources[name]

    def add(self, when: datetime, sentiment: str, *, count: int = 1, channel: str = "review",
            source: str = "s1", lang: str = "fr", courtesy: str | None = None) -> None:
        for _ in range(count):
            n = len(self.items)
            self.items.append(Item(
                authority_id=self.authority.id, source_id=self.source(source),
                external_id=str(n), content_hash=str(n), channel=channel, text="t", lang=lang,
                published_at=when, collected_at=when))
            mentions = [DeterminantMention("courtesy", courtesy, 0.9, 0, 1)] if courtesy else []
            self.predictions.append(Prediction(sentiment=SCORES[sentiment],
                                               determinants=mentions))

    def save(self) -> None:
        self.session.add_all(self.items)
        self.session.flush()
        record_predictions(self.session, self.items, self.predictions, model_name="m",
                           model_version="1")


def _fill(factory: sessionmaker[Session]) -> dict[str, str]:
    with session_scope(factory) as session:
        feed = Feed(session, "valmont")
        # Around the change to summer time (Sunday 29 March 2026, 02:00 → 03:00 in Paris).
        feed.add(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "positive", courtesy="positive")
        feed.add(datetime(2026, 3, 29, 21, 30, tzinfo=UTC), "positive")  # 29th, 23:30 CEST
        feed.add(datetime(2026, 3, 29, 22, 30, tzinfo=UTC), "negative", courtesy="negative")
        feed.add(datetime(2026, 2, 28, 23, 30, tzinfo=UTC), "positive")  # 1 March, 00:30 CET
        feed.add(datetime(2026, 3, 31, 22, 30, tzinfo=UTC), "negative")  # 1 April, 00:30
        # May: per channel, source and language.
        may = datetime(2026, 5, 12, 10, tzinfo=UTC)
        feed.add(may, "positive", count=3, channel="review", source="avis")
        feed.add(may, "positive", channel="complaint", source="registre", lang="en")
        feed.add(may, "negative", count=2, channel="complaint", source="registre")
        feed.add(may, "positive", channel="phone", source="avis", lang="en")
        # August 2026 against July 2026 and August 2025.
        feed.add(datetime(2026, 8, 10, 9, tzinfo=UTC), "positive", count=40)
        feed.add(datetime(2026, 8, 20, 9, tzinfo=UTC), "negative", count=10)
        feed.add(datetime(2026, 7, 10, 9, tzinfo=UTC), "positive", count=20)
        feed.add(datetime(2026, 7, 31, 21, 59, tzinfo=UTC), "negative", count=30)  # 23:59
        feed.add(datetime(2025, 8, 1, 9, tzinfo=UTC), "positive", count=10)
        feed.add(datetime(2025, 8, 31, 9, tzinfo=UTC), "negative", count=10)
        feed.save()
        other = Feed(session, "autreville")
        other.add(datetime(2026, 3, 20, 9, tzinfo=UTC), "negative", count=7, source="other")
        other.save()
        keys = {"viewer": create_key(session, role="viewer", authority=feed.authority)[1],
                "other": create_key(session, role="viewer", authority=other.authority)[1],
                "global": create_key(session, role="admin", authority=None)[1]}
        keys["sources"] = json.dumps(feed.sources)
    return keys


@pytest.fixture
def api(engine: Engine, factory: sessionmaker[Session], settings: Settings,
        tmp_path: Path) -> tuple[TestClient, dict[str, str]]:
    keys = _fill(factory)
    app = create_app(settings.model_copy(update={
        "min_sample_size": 2, "data_dir": tmp_path / "data", "default_authority": "valmont"}),
        engine)
    return TestClient(app), keys


def _get(api: tuple[TestClient, dict[str, str]], path: str, key: str = "viewer",
         **params: Any) -> Any:
    client, keys = api
    response = client.get(f"/api/v1/{path}", params=params,
                          headers={"Authorization": f"Bearer {keys[key]}"})
    assert response.status_code == 200, response.text
    return response.json()


def _counts(figure: dict[str, Any]) -> tuple[int, int, int]:
    return figure["positive"], figure["negative"], figure["neutral"]


def test_calendar_windows_count_local_days_across_daylight_saving(api: Any) -> None:
    w13 = _get(api, "satisfaction", window="2026-W13")
    assert (w13["start"], w13["end"]) == ("2026-03-23", "2026-03-29")
    assert _counts(w13["overall"]) == (2, 0, 0)
    # Wilson bounds when every mention is positive: n / (n + z²) to 1.
    assert w13["overall"]["ci_low"] == pytest.approx(2 / (2 + Z2))
    assert w13["overall"]["ci_high"] == pytest.approx(1.0)
    w14 = _get(api, "satisfaction", window="2026-W14")
    assert _counts(w14["overall"]) == (0, 2, 0)
    march = _get(api, "satisfaction", window="2026-03")
    assert _counts(march["overall"]) == (3, 1, 0)
    assert march["overall"]["net_score"] == pytest.approx(0.5)
    courtesy = {f["determinant"]: f for f in march["determinants"]}["courtesy"]
    assert _counts(courtesy) == (1, 1, 0)
    assert _counts(_get(api, "satisfaction", window="2026-Q1")["overall"]) == (3, 1, 0)
    explicit = _get(api, "satisfaction", **{"from": "2026-03-29", "to": "2026-03-30"})
    assert explicit["window"] == "2026-03-29..2026-03-30"
    assert _counts(explicit["overall"]) == (2, 1, 0)


def test_daily_weekly_monthly_series(api: Any) -> None:
    days = _get(api, "satisfaction/timeseries", granularity="day",
                **{"from": "2026-03-28", "to": "2026-04-01"})
    assert [(p["start"], _counts(p["figure"])) for p in days["points"]] == [
        ("2026-03-28", (0, 0, 0)), ("2026-03-29", (2, 0, 0)), ("2026-03-30", (0, 1, 0)),
        ("2026-03-31", (0, 0, 0)), ("2026-04-01", (0, 1, 0))]
    empty, one_negative = days["points"][0]["figure"], days["points"][2]["figure"]
    assert empty["share_positive"] is None and empty["ci_low"] is None  # n = 0
    assert (one_negative["ci_low"], one_negative["ci_high"]) == pytest.approx(
        (0.0, Z2 / (1 + Z2)))  # n = 1, nothing positive
    weeks = _get(api, "satisfaction/timeseries", granularity="week",
                 **{"from": "2026-03-25", "to": "2026-04-05"})
    assert [(p["start"], p["end"], _counts(p["figure"])) for p in weeks["points"]] == [
        ("2026-03-23", "2026-03-29", (2, 0, 0)), ("2026-03-30", "2026-04-05", (0, 2, 0))]
    months = _get(api, "satisfaction/timeseries", granularity="month", determinant="courtesy",
                  **{"from": "2026-02-15", "to": "2026-04-10"})
    assert [(p["start"], p["end"], _counts(p["figure"])) for p in months["points"]] == [
        ("2026-02-01", "2026-02-28", (0, 0, 0)), ("2026-03-01", "2026-03-31", (1, 1, 0)),
        ("2026-04-01", "2026-04-10", (0, 0, 0))]
    year = _get(api, "satisfaction/timeseries", granularity="month", window="2026")
    assert [_counts(p["figure"]) for p in year["points"]][2:8] == [
        (3, 1, 0), (0, 1, 0), (5, 2, 0), (0, 0, 0), (20, 30, 0), (40, 10, 0)]


def test_group_by_and_single_filters(api: Any) -> None:
    body = _get(api, "satisfaction", window="2026-05", group_by="channel")
    groups = [(g["value"], g["rank"], _counts(g["figure"])) for g in body["groups"]]
    # The phone channel has one mention, under the minimum of 2: shown, not ranked.
    assert groups == [("review", 1, (3, 0, 0)), ("complaint", 2, (1, 2, 0)),
                      ("phone", None, (1, 0, 0))]
    sources = json.loads(api[1]["sources"])
    by_source = _get(api, "satisfaction", window="2026-05", group_by="source")
    assert {(g["label"], g["value"]): _counts(g["figure"]) for g in by_source["groups"]} == {
        ("avis", str(sources["avis"])): (4, 0, 0),
        ("registre", str(sources["registre"])): (1, 2, 0)}
    by_lang = _get(api, "satisfaction", window="2026-05", group_by="lang")
    assert {g["value"]: _counts(g["figure"]) for g in by_lang["groups"]} == {
        "fr": (3, 2, 0), "en": (2, 0, 0)}
    assert _counts(_get(api, "satisfaction", window="2026-05", lang="en")["overall"]) == \
        (2, 0, 0)
    assert _counts(_get(api, "satisfaction", window="2026-05",
                        source_id=sources["registre"])["overall"]) == (1, 2, 0)
    assert _counts(_get(api, "satisfaction", window="2026-05", channel="complaint")[
        "overall"]) == (1, 2, 0)
    series = _get(api, "satisfaction/timeseries", granularity="month", window="2026-05",
                  channel="review")
    assert [_counts(p["figure"]) for p in series["points"]] == [(3, 0, 0)]


def test_changes_say_when_they_are_real(api: Any) -> None:
    august = _get(api, "satisfaction", window="2026-08")["overall"]
    assert _counts(august) == (40, 10, 0)
    previous = august["previous"]
    assert (previous["start"], previous["end"], previous["positive"], previous["n"]) == (
        "2026-07-01", "2026-07-31", 20, 50)
    assert previous["difference"] == pytest.approx(0.8 - 0.4)
    # Pooled p = 0.6: z = 0.4 / sqrt(0.6 * 0.4 * (2 / 50)).
    z = 0.4 / math.sqrt(0.24 * 0.04)
    assert previous["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert previous["significant"] is True
    a_year_before = august["year_before"]
    assert (a_year_before["start"], a_year_before["n"]) == ("2025-08-01", 20)
    assert a_year_before["difference"] == pytest.approx(0.3)
    # July against June 2026 (nothing: p-value null) and no July 2025 at all.
    july = _get(api, "satisfaction", window="2026-07")["overall"]
    assert july["previous"]["n"] == 0 and july["previous"]["p_value"] is None
    assert july["previous"]["significant"] is False and july["year_before"] is None


def test_significant_is_never_true_under_the_minimum_n(
        engine: Engine, factory: sessionmaker[Session], settings: Settings,
        tmp_path: Path) -> None:
    keys = _fill(factory)
    client = TestClient(create_app(settings.model_copy(update={
        "min_sample_size": 51, "data_dir": tmp_path / "data"}), engine))
    body = client.get("/api/v1/satisfaction", params={"window": "2026-08"},
                      headers={"Authorization": f"Bearer {keys['viewer']}"}).json()
    assert body["overall"]["previous"]["p_value"] < 0.001
    assert body["overall"]["previous"]["significant"] is False


@pytest.mark.parametrize(("path", "params", "hint"), [
    ("satisfaction", {"window": "2026-W60"}, "2026-W47"),
    ("satisfaction", {"group_by": "colour"}, "channel"),
    ("satisfaction", {"to": "2026-03-01"}, "from"),
    ("satisfaction", {"channel": "review", "lang": "fr"}, "one filter"),
    ("satisfaction", {"group_by": "lang", "channel": "review"}, "one filter"),
    ("satisfaction/timeseries", {"granularity": "hour"}, "week"),
    ("satisfaction/timeseries", {"determinant": "parking"}, "courtesy"),
    ("satisfaction/timeseries", {"window": "soon"}, "30d"),
])
def test_unknown_values_are_refused_with_a_hint(api: Any, path: str, params: dict[str, str],
                                                hint: str) -> None:
    client, keys = api
    response = client.get(f"/api/v1/{path}", params=params,
                          headers={"Authorization": f"Bearer {keys['viewer']}"})
    assert response.status_code == 400, response.text
    assert hint in response.json()["hint"]


def test_combined_channel_and_site_filters_read_the_daily_rollup(api: Any) -> None:
    body = _get(api, "satisfaction", window="2026-05", group_by="channel", site_id=1)
    assert body["groups"] == [] and _counts(body["overall"]) == (0, 0, 0)
    body = _get(api, "satisfaction", window="2026-05", channel="complaint", department_id=1)
    assert _counts(body["overall"]) == (0, 0, 0)


@pytest.mark.parametrize("path", ["satisfaction", "satisfaction/timeseries"])
def test_every_figure_is_the_keys_authority(api: Any, path: str) -> None:
    client, keys = api
    # Unknown query parameters are refused: only the series takes a granularity.
    params = {"window": "2026-03", **({"granularity": "month"} if path != "satisfaction" else {})}
    own = _get(api, path, key="other", **params)
    overall = own["overall"] if path == "satisfaction" else own["points"][0]["figure"]
    assert own["authority"] == "autreville" and _counts(overall) == (0, 7, 0)
    refused = client.get(f"/api/v1/{path}", params={**params, "authority": "valmont"},
                         headers={"Authorization": f"Bearer {keys['other']}"})
    assert refused.status_code == 403
    chosen = _get(api, path, key="global", authority="autreville", **params)
    assert chosen["authority"] == "autreville"
    if path == "satisfaction":
        grouped = _get(api, path, key="other", group_by="source", **params)
        assert [_counts(g["figure"]) for g in grouped["groups"]] == [(0, 7, 0)]


def test_channel_volumes_with_and_without_a_filter(factory: sessionmaker[Session]) -> None:
    _fill(factory)
    may = Window(date(2026, 5, 1), date(2026, 5, 31))
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        assert list(channel_volumes(session, valmont, may).items()) == [
            ("complaint", 3), ("review", 3), ("phone", 1)]
        # A department: read from daily_rollup (the items have none, so nothing).
        assert channel_volumes(session, valmont, may, department_id=1) == {}
        year = Window(date(2026, 1, 1), date(2026, 12, 31))
        assert sum(channel_volumes(session, valmont, year).values()) == 5 + 7 + 100
