"""One rating normalisation for every collector."""

from __future__ import annotations

import pytest

from ecoute.collectors.base import RawItem
from ecoute.collectors.ratings import (
    net_promoter_score,
    normalized_rating,
    nps_category,
    parse_rating,
    rating_norm,
)


def test_nps_arithmetic() -> None:
    assert [nps_category(v) for v in (0, 6, 7, 8, 9, 10)] == [
        "detractor", "detractor", "passive", "passive", "promoter", "promoter"]
    result = net_promoter_score([10, 9, 9, 8, 7, 6, 0, None, 3, 10])
    assert (result.promoters, result.passives, result.detractors) == (4, 2, 3)
    assert result.score == pytest.approx(100 * (4 - 3) / 9)
    assert net_promoter_score([]).score is None
    assert parse_rating("4/5", "1-5") == 4 and parse_rating("Oui", "yes/no") == 1
    assert parse_rating("11", "0-10") is None and parse_rating("n/a", "1-7") is None


def test_rating_norm_spans_the_scale() -> None:
    assert rating_norm(1, "1-5") == 0 and rating_norm(5, "1-5") == 1
    assert rating_norm(15, "0-20") == pytest.approx(0.75)


def test_normalized_rating_from_value_and_scale_or_as_given() -> None:
    def raw(**kw: object) -> RawItem:
        return RawItem(external_id="x", text="t", **kw)  # type: ignore[arg-type]

    assert normalized_rating(raw(rating_value=4.0, rating_scale="1-5")) == pytest.approx(0.75)
    assert normalized_rating(raw(rating_norm=1.7)) == 1.0  # clamped
    assert normalized_rating(raw(rating_value=4.0, rating_scale="five")) is None
    assert normalized_rating(raw(rating_value=4.0, rating_scale="5-1")) is None
    assert normalized_rating(raw()) is None
