"""Satisfaction per determinant over a window, read from DailyRollup only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoute.assessment.statistics import Interval, net_score, wilson_interval
from ecoute.domain import DETERMINANTS, OVERALL
from ecoute.errors import InvalidRequest
from ecoute.store.models import Authority, DailyRollup

_WINDOW = re.compile(r"^(\d{1,4})d$")


@dataclass(frozen=True)
class Window:
    start: date  # inclusive
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_window(spec: str, today: date) -> Window:
    """``7d``, ``30d``, ``90d``... ending today (in the authority's time zone)."""
    match = _WINDOW.match(spec.strip())
    if not match or int(match.group(1)) < 1:
        raise InvalidRequest(
            f"window {spec!r} is not understood", hint="use a number of days such as 7d, 30d, 90d"
        )
    days = int(match.group(1))
    return Window(start=today - timedelta(days=days - 1), end=today)


@dataclass(frozen=True)
class DeterminantFigure:
    determinant: str
    positive: int
    negative: int
    neutral: int
    n: int  # positive + negative: what the share is computed on
    share_positive: float | None
    interval: Interval | None
    net_score: float | None
    sufficient: bool


@dataclass(frozen=True)
class SatisfactionReport:
    window: Window
    min_sample_size: int
    overall: DeterminantFigure
    determinants: list[DeterminantFigure]
    rating_mean: float | None
    rating_count: int


def _figure(name: str, pos: int, neg: int, neu: int, min_n: int) -> DeterminantFigure:
    n = pos + neg
    return DeterminantFigure(
        determinant=name, positive=pos, negative=neg, neutral=neu, n=n,
        share_positive=(pos / n) if n else None, interval=wilson_interval(pos, n),
        net_score=net_score(pos, neg, neu), sufficient=n >= min_n,
    )


def authority_today(authority: Authority, now: datetime | None = None) -> date:
    zone = ZoneInfo(authority.timezone)
    return (now.astimezone(zone) if now else datetime.now(zone)).date()


def satisfaction(
    session: Session,
    authority: Authority,
    window: Window,
    *,
    min_sample_size: int = 30,
    channel: str | None = None,
    site_id: int | None = None,
    department_id: int | None = None,
) -> SatisfactionReport:
    query = (
        select(
            DailyRollup.determinant,
            func.sum(DailyRollup.pos), func.sum(DailyRollup.neg), func.sum(DailyRollup.neu),
            func.sum(DailyRollup.rating_sum), func.sum(DailyRollup.rating_count),
        )
        .where(
            DailyRollup.authority_id == authority.id,
            DailyRollup.day >= window.start,
            DailyRollup.day <= window.end,
        )
        .group_by(DailyRollup.determinant)
    )
    if channel:
        query = query.where(DailyRollup.channel == channel)
    if site_id is not None:
        query = query.where(DailyRollup.site_id == site_id)
    if department_id is not None:
        query = query.where(DailyRollup.department_id == department_id)
    sums = {row[0]: row[1:] for row in session.execute(query)}
    figures = []
    for name in DETERMINANTS:
        pos, neg, neu, _rs, _rc = sums.get(name, (0, 0, 0, 0.0, 0))
        figures.append(_figure(name, int(pos), int(neg), int(neu), min_sample_size))
    pos, neg, neu, rating_sum, rating_count = sums.get(OVERALL, (0, 0, 0, 0.0, 0))
    return SatisfactionReport(
        window=window,
        min_sample_size=min_sample_size,
        overall=_figure(OVERALL, int(pos), int(neg), int(neu), min_sample_size),
        determinants=figures,
        rating_mean=(float(rating_sum) / int(rating_count)) if rating_count else None,
        rating_count=int(rating_count or 0),
    )
