"""Rating figures (mean normalised rating, CSAT share, NPS) against values computed by hand,
read through the real store on SQLite and PostgreSQL (Paris time: 30 April 22:30 UTC is already
1 May)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.ratings import ALL_SCALES, rating_figures, ratings
from ecoute.assessment.satisfaction import Window
from ecoute.store.authorities import Places, ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import Item
from ecoute.store.ratings import RatingCount, RatingFilters
from ecoute.store.sources import add_source

Z = 1.959963984540054
T9 = 2.262157  # Student's t, 97.5 %, 9 degrees of freedom (statistical tables)
T4 = 2.776445
MAY = Window(date(2026, 5, 1), date(2026, 5, 30))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _row(authority_id: int, source_id: int, n: int, value: float | None, scale: str | None,
         published: datetime | None, **more: Any) -> dict[str, Any]:
    low, high = {"1-5": (1, 5), "0-10": (0, 10), "nps": (0, 10), "yes/no": (0, 1)}.get(
        scale or "", (0, 1))
    return {"authority_id": authority_id, "source_id": source_id, "external_id": f"r{n}",
            "content_hash": f"h{n}", "channel": "survey", "text": f"answer {n}", "extra": {},
            "rating_value": value, "rating_scale": scale,
            "rating_norm": None if value is None else (value - low) / (high - low),
            "published_at": published, "collected_at": utc(2026, 5, 20, 12), **more}


@pytest.fixture
def answers(factory: sessionmaker[Session]) -> dict[str, int]:
    """May 2026 in Paris: ten 0-10 answers (one stored as ``nps``, one dated only by its
    collection, one at 00:30 Paris on 1 May), five 1-5, four yes/no of an audit at one site;
    April: three 0-10 answers. Another authority's answers, an unknown scale and unrated
    items never count."""
    with session_scope(factory) as session:
        authority = ensure_authority(session, "demo", timezone="Europe/Paris")
        other = ensure_authority(session, "autreville")
        survey = add_source(session, authority.id, name="survey", kind="survey_file", options={})
        audit = add_source(session, authority.id, name="audit", kind="audit_grid", options={})
        elsewhere = add_source(session, other.id, name="survey", kind="survey_file", options={})
        annex = Places(authority.id).site_id(session, "Annexe")
        a, s = authority.id, survey.id
        may = utc(2026, 5, 10, 9)
        rows = [_row(a, s, i, v, "0-10", may) for i, v in enumerate([10, 9, 9, 8, 7, 6, 0])]
        rows += [_row(a, s, 7, 3, "nps", may), _row(a, s, 8, 10, "0-10", None),
                 _row(a, s, 9, 10, "0-10", utc(2026, 4, 30, 22, 30))]
        rows += [_row(a, s, 10 + i, v, "1-5", may) for i, v in enumerate([5, 4, 4, 3, 1])]
        rows += [_row(a, audit.id, 20 + i, v, "yes/no", may, channel="audit", site_id=annex)
                 for i, v in enumerate([1, 0, 1, 1])]
        rows += [_row(a, s, 30, 10, "0-10", utc(2026, 4, 30, 21, 30)),
                 _row(a, s, 31, 2, "0-10", utc(2026, 4, 2, 9)),
                 _row(a, s, 32, 9, "0-10", utc(2026, 4, 29, 9))]
        rows += [_row(a, s, 40, 4, "stars", may), _row(a, s, 41, None, None, may),
                 _row(other.id, elsewhere.id, 50, 0, "0-10", may)]
        session.execute(insert(Item), rows)
        return {"survey": s, "audit": audit.id, "annex": annex or 0}


def _report(factory: sessionmaker[Session], **filters: Any) -> Any:
    with session_scope(factory) as session:
        authority = ensure_authority(session, "demo")
        return ratings(session, authority, MAY, min_sample_size=5,
                       filters=RatingFilters(**filters))


def test_figures_per_scale_by_hand(factory: sessionmaker[Session],
                                   answers: dict[str, int]) -> None:
    report = _report(factory)
    assert report.previous == Window(date(2026, 4, 1), date(2026, 4, 30))
    scales = {c.now.scale: c for c in report.scales}
    assert list(scales) == ["0-10", "1-5", "yes/no"]
    nps = scales["0-10"].now
    # 10 9 9 8 7 6 0 3 10 10: promoters 5, passives 2, detractors 3.
    assert (nps.n, nps.nps.promoters, nps.nps.passives, nps.nps.detractors) == (10, 5, 2, 3)
    assert nps.nps.score == pytest.approx(20.0)
    half = 100 * Z * math.sqrt((0.5 + 0.3 - 0.2**2) / 10)
    assert (nps.nps.interval.low, nps.nps.interval.high) == pytest.approx((20 - half, 20 + half))
    # CSAT on 0-10: the top two answers, 9 and 10.
    assert (nps.csat.satisfied, nps.csat.n, nps.csat.share) == (5, 10, 0.5)
    # Mean of 1 .9 .9 .8 .7 .6 0 .3 1 1 = 0.72; squared deviations sum to 1.016.
    assert nps.mean.mean == pytest.approx(0.72)
    half = T9 * math.sqrt(1.016 / 9 / 10)
    assert (nps.mean.interval.low, nps.mean.interval.high) == pytest.approx(
        (0.72 - half, 0.72 + half), rel=1e-5)
    assert nps.sufficient
    stars = scales["1-5"].now
    # 5 4 4 3 1: satisfied 4-5 → 3 of 5; normalised 1 .75 .75 .5 0 → 0.6, deviations² 0.575.
    assert (stars.csat.satisfied, stars.csat.n, stars.nps) == (3, 5, None)
    assert stars.mean.mean == pytest.approx(0.6)
    half = T4 * math.sqrt(0.575 / 4 / 5)
    assert stars.mean.interval.low == pytest.approx(0.6 - half, rel=1e-5)
    assert stars.mean.interval.high == pytest.approx(min(1.0, 0.6 + half), rel=1e-5)
    yes_no = scales["yes/no"].now
    assert (yes_no.csat.satisfied, yes_no.csat.n, yes_no.mean.mean) == (3, 4, 0.75)
    assert not yes_no.sufficient
    # Every scale at once: normalised sum 7.2 + 3 + 3 over 19; satisfied 5 + 3 + 3.
    overall = report.overall.now
    assert overall.scale == ALL_SCALES and overall.n == 19 and overall.nps is None
    assert overall.mean.mean == pytest.approx(13.2 / 19)
    assert (overall.csat.satisfied, overall.csat.n) == (11, 19)


def test_previous_window_and_changes(factory: sessionmaker[Session],
                                     answers: dict[str, int]) -> None:
    report = _report(factory)
    # April: 10 (23:30 Paris on 30 April), 2, 9: promoters 2, detractor 1.
    april = report.nps
    assert april is not None and april.before.nps is not None
    assert (april.before.n, april.before.nps.score) == (3, pytest.approx(100 / 3))
    assert april.nps_change == pytest.approx(20 - 100 / 3)
    assert april.csat_change == pytest.approx(0.5 - 2 / 3)
    assert april.mean_change == pytest.approx(0.72 - 2.1 / 3)
    # No 1-5 answer in April: nothing to compare.
    stars = next(c for c in report.scales if c.now.scale == "1-5")
    assert stars.before.n == 0 and stars.mean_change is None and stars.csat_change is None


def test_filters(factory: sessionmaker[Session], answers: dict[str, int]) -> None:
    audit = _report(factory, channel="audit")
    assert [c.now.scale for c in audit.scales] == ["yes/no"] and audit.overall.now.n == 4
    assert _report(factory, site_id=answers["annex"]).overall.now.n == 4
    assert _report(factory, source_id=answers["survey"]).overall.now.n == 15
    assert _report(factory, source_id=answers["audit"]).nps is None
    nothing = _report(factory, department_id=12345)
    assert nothing.scales == [] and nothing.overall.now.n == 0
    assert nothing.overall.now.mean.mean is None and nothing.overall.now.csat.share is None


def _counts(scale: str, values: list[float]) -> list[RatingCount]:
    low, high = (0, 10) if scale == "0-10" else (1, 5)
    return [RatingCount(scale, v, (v - low) / (high - low), n)
            for v, n in Counter(values).items()]


def test_no_answer_all_promoters_all_detractors() -> None:
    overall, scales = rating_figures([], 30)
    assert scales == {} and overall.n == 0 and overall.mean.interval is None
    assert overall.csat.interval is None and not overall.sufficient
    _, scales = rating_figures(_counts("0-10", [9, 10, 10, 9]), 30)
    nps = scales["0-10"].nps
    assert nps is not None and nps.score == 100.0
    # No spread in the sample: the estimator's variance is 0.
    assert nps.interval is not None and (nps.interval.low, nps.interval.high) == (100.0, 100.0)
    _, scales = rating_figures(_counts("0-10", [0, 6, 3]), 30)
    nps = scales["0-10"].nps
    assert nps is not None and nps.score == -100.0 and scales["0-10"].csat.share == 0.0
    _, scales = rating_figures(_counts("0-10", [7, 8]), 30)
    assert scales["0-10"].nps.score == 0.0  # type: ignore[union-attr]
    # One answer: a mean, but no interval.
    one, _ = rating_figures(_counts("1-5", [4]), 1)
    assert one.mean.mean == 0.75 and one.mean.interval is None and one.sufficient


answers_0_10 = st.lists(st.integers(0, 10), min_size=1, max_size=200)


@given(answers_0_10, st.lists(st.integers(1, 5), max_size=50))
def test_figures_agree_with_the_plain_definitions(nps_values: list[int],
                                                  stars: list[int]) -> None:
    overall, scales = rating_figures(
        _counts("0-10", [float(v) for v in nps_values])
        + _counts("1-5", [float(v) for v in stars]), 30)
    nps = scales["0-10"].nps
    assert nps is not None and nps.interval is not None and nps.score is not None
    n = len(nps_values)
    promoters = sum(v >= 9 for v in nps_values)
    detractors = sum(v <= 6 for v in nps_values)
    assert nps.score == pytest.approx(100 * (promoters - detractors) / n)
    assert -100 <= nps.interval.low <= nps.score + 1e-9 <= nps.interval.high + 2e-9 <= 100 + 3e-9
    norms = [v / 10 for v in nps_values] + [(v - 1) / 4 for v in stars]
    assert overall.mean.mean == pytest.approx(sum(norms) / len(norms))
    assert overall.csat.satisfied == promoters + sum(v >= 4 for v in stars)
    if overall.mean.interval is not None:
        assert 0 <= overall.mean.interval.low <= overall.mean.mean + 1e-9
        assert overall.mean.interval.high <= 1
