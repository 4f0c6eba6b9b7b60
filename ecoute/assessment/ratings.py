"""Ratings and surveys as figures: per rating scale, the mean normalised rating, the CSAT share
and, on 0-10 answers, the Net Promoter Score, each with its 95 % interval, over a window and
beside the window before it.

- Mean normalised rating: the mean of answers mapped to 0..1 on their scale, with a t interval.
- CSAT share: the share of satisfied answers, with a Wilson interval. Satisfied is the top
  answer of yes/no, the top two answers of a scale of 3 to 11 answers (4-5 of 1-5, 6-7 of 1-7,
  9-10 of 0-10) and the top fifth of longer ones (16-20 of 0-20, 80-100 of 0-100):
  ``domain.satisfied_from``.
- NPS: % promoters (9-10) − % detractors (0-6) of 0-10 answers (NPS questions are stored on
  that scale), in points from −100 to 100, with the normal interval of a difference of
  multinomial shares, var = (p+ + p− − (p+ − p−)²) / n.

Figures are read from the rated items themselves (``store.ratings``), so a rating counts as
soon as it is collected, before classification. Items are dated as in the rollups (published,
else collected) in the authority's time zone.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ecoute.assessment.satisfaction import Window
from ecoute.assessment.statistics import (
    Interval,
    mean_interval,
    net_promoter_interval,
    wilson_interval,
)
from ecoute.assessment.windows import utc_bounds
from ecoute.domain import NPS_SCALES, nps_category, satisfied_from, scale_bounds
from ecoute.store.models import Authority
from ecoute.store.ratings import RatingCount, RatingFilters, rating_counts

#: The name of the figure over every scale at once.
ALL_SCALES = "all"
#: The scale NPS answers are counted on (``nps`` answers are stored on it).
NPS_SCALE = "0-10"
#: Answers a float threshold may miss by rounding (0.8 × 20 is not always 16).
_EPSILON = 1e-9


@dataclass(frozen=True)
class MeanRating:
    n: int
    mean: float | None  # 0..1
    interval: Interval | None


@dataclass(frozen=True)
class CsatShare:
    satisfied: int
    n: int
    share: float | None  # 0..1
    interval: Interval | None


@dataclass(frozen=True)
class NetPromoter:
    promoters: int
    passives: int
    detractors: int
    score: float | None  # points, −100..100
    interval: Interval | None  # points

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors


@dataclass(frozen=True)
class RatingFigure:
    """The figures of one scale (or of all of them, ``scale == "all"``: mean and CSAT only)."""

    scale: str
    n: int
    mean: MeanRating
    csat: CsatShare
    nps: NetPromoter | None  # 0-10 scale only
    sufficient: bool  # n reaches the minimum sample size


def _difference(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


@dataclass(frozen=True)
class RatingChange:
    """A scale's figures over the window and over the window before it."""

    now: RatingFigure
    before: RatingFigure

    @property
    def mean_change(self) -> float | None:
        return _difference(self.now.mean.mean, self.before.mean.mean)

    @property
    def csat_change(self) -> float | None:
        return _difference(self.now.csat.share, self.before.csat.share)

    @property
    def nps_change(self) -> float | None:
        """In points."""
        if self.now.nps is None or self.before.nps is None:
            return None
        return _difference(self.now.nps.score, self.before.nps.score)


@dataclass(frozen=True)
class RatingsReport:
    window: Window
    previous: Window
    min_sample_size: int
    overall: RatingChange
    scales: list[RatingChange]  # the scales answered in either window, in scale order

    @property
    def nps(self) -> RatingChange | None:
        """The 0-10 scale, whose figures hold the NPS; None when no 0-10 answer was given."""
        return next((c for c in self.scales if c.now.scale == NPS_SCALE), None)


def family(scale: str) -> str | None:
    """The scale a stored answer is counted on (``nps`` is 0-10); None for a scale whose
    bounds are unknown, whose answers cannot be compared with others."""
    if scale_bounds(scale) is None:
        return None
    return NPS_SCALE if scale in NPS_SCALES else scale


def mean_rating(norms: Counter[float]) -> MeanRating:
    """Mean and t interval of normalised answers given as answer → count."""
    n = sum(norms.values())
    if n == 0:
        return MeanRating(0, None, None)
    mean = sum(v * c for v, c in norms.items()) / n
    variance = sum(c * (v - mean) ** 2 for v, c in norms.items()) / (n - 1) if n > 1 else 0.0
    return MeanRating(n, mean, mean_interval(n, mean, variance))


def csat_share(satisfied: int, n: int) -> CsatShare:
    return CsatShare(satisfied, n, satisfied / n if n else None, wilson_interval(satisfied, n))


def net_promoter(values: Counter[float]) -> NetPromoter:
    """NPS of 0-10 answers given as answer → count."""
    by_category: Counter[str] = Counter()
    for value, count in values.items():
        by_category[nps_category(value)] += count
    promoters, passives, detractors = (
        by_category["promoter"], by_category["passive"], by_category["detractor"])
    n = promoters + passives + detractors
    interval = net_promoter_interval(promoters, detractors, n)
    return NetPromoter(
        promoters, passives, detractors,
        score=100.0 * (promoters - detractors) / n if n else None,
        interval=Interval(100 * interval.low, 100 * interval.high) if interval else None,
    )


def _figure(scale: str, rows: Iterable[RatingCount], min_n: int) -> RatingFigure:
    norms: Counter[float] = Counter()
    values: Counter[float] = Counter()
    satisfied = answered = 0
    for row in rows:
        if row.norm is not None:
            norms[row.norm] += row.count
        threshold = satisfied_from(row.scale)
        if row.value is None or threshold is None:
            continue
        answered += row.count
        if row.value >= threshold - _EPSILON:
            satisfied += row.count
        values[row.value] += row.count
    mean = mean_rating(norms)
    nps = net_promoter(values) if scale == NPS_SCALE else None
    n = max(mean.n, answered)
    return RatingFigure(scale=scale, n=n, mean=mean, csat=csat_share(satisfied, answered),
                        nps=nps, sufficient=n >= min_n)


def rating_figures(rows: Iterable[RatingCount], min_sample_size: int
                   ) -> tuple[RatingFigure, dict[str, RatingFigure]]:
    """The figure over every scale and one per scale, from counted answers."""
    by_scale: dict[str, list[RatingCount]] = defaultdict(list)
    for row in rows:
        name = family(row.scale)
        if name is not None:
            by_scale[name].append(row)
    everything = [row for rows_of in by_scale.values() for row in rows_of]
    overall = _figure(ALL_SCALES, everything, min_sample_size)
    return overall, {name: _figure(name, by_scale[name], min_sample_size)
                     for name in sorted(by_scale)}


def _utc_bounds(authority: Authority, window: Window) -> tuple[datetime, datetime]:
    return utc_bounds(window.start, window.end, ZoneInfo(authority.timezone))


def previous_window(window: Window) -> Window:
    """The same number of days just before ``window``."""
    end = window.start - timedelta(days=1)
    return Window(end - timedelta(days=window.days - 1), end)


def ratings(
    session: Session, authority: Authority, window: Window, *, min_sample_size: int = 30,
    previous: Window | None = None, filters: RatingFilters = RatingFilters(),
) -> RatingsReport:
    """The authority's rating figures over ``window`` and ``previous`` (by default the same
    number of days before it), per scale and over all of them."""
    before_window = previous or previous_window(window)
    now_all, now_scales = rating_figures(
        rating_counts(session, authority.id, *_utc_bounds(authority, window), filters),
        min_sample_size)
    before_all, before_scales = rating_figures(
        rating_counts(session, authority.id, *_utc_bounds(authority, before_window), filters),
        min_sample_size)
    empty = {name: _figure(name, [], min_sample_size) for name in {*now_scales, *before_scales}}
    scales = [RatingChange(now_scales.get(name, empty[name]),
                           before_scales.get(name, empty[name])) for name in sorted(empty)]
    return RatingsReport(window=window, previous=before_window, min_sample_size=min_sample_size,
                         overall=RatingChange(now_all, before_all), scales=scales)
