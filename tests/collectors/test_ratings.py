"""One rating normalisation for every collector."""

from __future__ import annotations

import pytest

from ecoute.collectors.base import RawItem
from ecoute.collectors.ratings import normalized_rating, parse_rating, rating_norm
from ecoute.domain import nps_category, satisfied_from, scale_bounds


def test_nps_categories_and_answers() -> None:
    assert [nps_category(v) for v in (0, 6, 7, 8, 9, 10)] == [
        "detractor", "detractor", "passive", "passive", "promoter", "promoter"]
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


def test_scale_bounds_and_the_satisfied_answers_of_each_scale() -> None:
    assert scale_bounds("nps") == (0, 10) and scale_bounds("2-6") == (2, 6)
    assert scale_bounds("five") is None and scale_bounds("5-1") is None
    # Top box of yes/no, top two of 1-4 ... 0-10, top fifth of the longer scales.
    expected = {"yes/no": 1, "1-4": 3, "1-5": 4, "0-5": 4, "1-7": 6, "1-10": 9, "0-10": 9,
                "nps": 9, "0-20": 16, "0-100": 80, "2-6": 5}
    assert {scale: satisfied_from(scale) for scale in expected} == pytest.approx(expected)
    assert satisfied_from("stars") is None
