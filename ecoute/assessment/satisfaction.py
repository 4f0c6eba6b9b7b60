"""Satisfaction per determinant over a window, read from the rollups only.

A figure with no filter, one filter or one grouping sums ``SatisfactionRollup`` rows of one
dimension (whole months and the days at the window's ends); several filters at once (only
channel, site and department combine) sum ``DailyRollup``, whose key holds all three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoute.assessment.statistics import Interval, net_score, wilson_interval
from ecoute.assessment.windows import Window, parse_window, spans
from ecoute.domain import DETERMINANTS, OVERALL
from ecoute.errors import InvalidRequest
from ecoute.store.models import Authority, DailyRollup
from ecoute.store.rollups import ALL, DIMENSIONS, labelled_sums, value_labels, values_seen

__all__ = ["Window", "parse_window", "Filters", "DeterminantFigure", "SatisfactionReport",
           "satisfaction", "authority_today", "GROUP_BY", "group_reports"]

Sums = tuple[int, int, int, float, int]  # pos, neg, neu, rating_sum, rating_count
ZERO: Sums = (0, 0, 0, 0.0, 0)
#: What ``group_by`` accepts: one figure per value of the dimension.
GROUP_BY = DIMENSIONS
#: The dimensions ``DailyRollup`` holds, the only ones that combine.
_DAILY = {"channel": DailyRollup.channel, "site": DailyRollup.site_id,
          "department": DailyRollup.department_id}


@dataclass(frozen=True)
class Filters:
    """What a figure is restricted to (None: no restriction)."""

    channel: str | None = None
    site_id: int | None = None
    department_id: int | None = None
    source_id: int | None = None
    lang: str | None = None

    def dimensions(self) -> dict[str, str]:
        """The filters set, as rollup dimensions and values (ids as text)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name.removesuffix("_id")] = str(value)
        return out


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

    def figure(self, determinant: str | None) -> DeterminantFigure:
        """One determinant's figure; the overall sentiment's for None or ``_overall``."""
        for f in self.determinants:
            if f.determinant == determinant:
                return f
        return self.overall


def figure(name: str, pos: int, neg: int, neu: int, min_n: int) -> DeterminantFigure:
    n = pos + neg
    return DeterminantFigure(
        determinant=name, positive=pos, negative=neg, neutral=neu, n=n,
        share_positive=(pos / n) if n else None, interval=wilson_interval(pos, n),
        net_score=net_score(pos, neg, neu), sufficient=n >= min_n,
    )


def authority_today(authority: Authority, now: datetime | None = None) -> date:
    zone = ZoneInfo(authority.timezone)
    return (now.astimezone(zone) if now else datetime.now(zone)).date()


def _report(window: Window, sums: dict[str, Sums], min_n: int) -> SatisfactionReport:
    pos, neg, neu, rating_sum, rating_count = sums.get(OVERALL, ZERO)
    return SatisfactionReport(
        window=window, min_sample_size=min_n,
        overall=figure(OVERALL, pos, neg, neu, min_n),
        determinants=[figure(name, *sums.get(name, ZERO)[:3], min_n) for name in DETERMINANTS],
        rating_mean=(rating_sum / rating_count) if rating_count else None,
        rating_count=rating_count,
    )


def check_combinable(filters: Filters, group_by: str | None = None) -> None:
    """Refuses several filters (or a filter and a grouping) that ``DailyRollup`` cannot
    answer together."""
    unknown = set(filters.dimensions()) - set(_DAILY)
    if unknown or (group_by and group_by not in _DAILY):
        raise InvalidRequest(
            "source and language filters or groupings combine with nothing else",
            hint="use one filter or one group_by at a time with source or lang; channel, "
                 "site and department combine with each other")


def _daily_sums(session: Session, authority: Authority, window: Window, filters: Filters,
                group_by: str | None) -> dict[tuple[str, str], Sums]:
    check_combinable(filters, group_by)
    r = DailyRollup
    keys = [_DAILY[group_by], r.determinant] if group_by else [r.determinant]
    query = select(*keys, func.sum(r.pos), func.sum(r.neg), func.sum(r.neu),
                   func.sum(r.rating_sum), func.sum(r.rating_count)).where(
        r.authority_id == authority.id, r.day >= window.start, r.day <= window.end,
    ).group_by(*keys)
    for dimension, value in filters.dimensions().items():
        column = _DAILY[dimension]
        query = query.where(column == (value if dimension == "channel" else int(value)))
    out: dict[tuple[str, str], Sums] = {}
    for row in session.execute(query):
        value = str(row[0]) if group_by else ""
        p, n, u, rs, rc = row[-5:]
        out[(value, row[-6])] = (int(p or 0), int(n or 0), int(u or 0), float(rs or 0.0),
                                 int(rc or 0))
    return out


def sums_over(session: Session, authority: Authority, windows: Sequence[Window],
              filters: Filters, group_by: str | None = None,
              determinants: Sequence[str] = (OVERALL, *DETERMINANTS),
              ) -> list[dict[tuple[str, str], Sums]]:
    """Counts per (group value, determinant) over each window (the value is "" without
    ``group_by``); one query for all the windows when one dimension answers."""
    if group_by is not None and group_by not in GROUP_BY:
        raise InvalidRequest(f"group_by {group_by!r} is not understood",
                             hint=f"use one of {', '.join(GROUP_BY)}")
    chosen = filters.dimensions()
    if len(chosen) + (group_by is not None) > 1:
        return [_daily_sums(session, authority, w, filters, group_by) for w in windows]
    if group_by is not None:
        dimension, values = group_by, values_seen(session, authority.id, group_by)
    elif chosen:
        dimension, value = next(iter(chosen.items()))
        values = [value]
    else:
        dimension, values = ALL, [""]
    labelled = [(str(i), span) for i, w in enumerate(windows) for span in spans(w)]
    found = labelled_sums(session, authority.id, dimension, values, determinants, labelled)
    out: list[dict[tuple[str, str], Sums]] = [{} for _ in windows]
    for (label, value, det), counts in found.items():
        out[int(label)][(value if group_by else "", det)] = counts
    return out


def sums_by(session: Session, authority: Authority, window: Window, filters: Filters,
            group_by: str | None = None,
            determinants: Sequence[str] = (OVERALL, *DETERMINANTS),
            ) -> dict[tuple[str, str], Sums]:
    """Counts per (group value, determinant) over the window; the value is "" without
    ``group_by``."""
    return sums_over(session, authority, [window], filters, group_by, determinants)[0]


def reports(session: Session, authority: Authority, windows: Sequence[Window], *,
            min_sample_size: int = 30, filters: Filters = Filters()
            ) -> list[SatisfactionReport]:
    """:func:`satisfaction` over several windows at once."""
    return [_report(w, {det: counts for (_v, det), counts in sums.items()}, min_sample_size)
            for w, sums in zip(windows, sums_over(session, authority, windows, filters),
                               strict=True)]


def satisfaction(
    session: Session,
    authority: Authority,
    window: Window,
    *,
    min_sample_size: int = 30,
    channel: str | None = None,
    site_id: int | None = None,
    department_id: int | None = None,
    filters: Filters | None = None,
) -> SatisfactionReport:
    """Every determinant's figure and the overall sentiment's over ``window``."""
    filters = filters or Filters(channel=channel, site_id=site_id, department_id=department_id)
    return reports(session, authority, [window], min_sample_size=min_sample_size,
                   filters=filters)[0]


def group_reports(session: Session, authority: Authority, window: Window, group_by: str,
                  values: Sequence[str], *, min_sample_size: int = 30
                  ) -> dict[str, SatisfactionReport]:
    """Every determinant's figure for each value of ``group_by`` (ids as text), read in one
    round trip whatever the number of groups; a value without mentions gets an empty report."""
    if group_by not in GROUP_BY:
        raise InvalidRequest(f"group_by {group_by!r} is not understood",
                             hint=f"use one of {', '.join(GROUP_BY)}")
    found = labelled_sums(session, authority.id, group_by, list(values),
                          (OVERALL, *DETERMINANTS), [("", span) for span in spans(window)])
    by_value: dict[str, dict[str, Sums]] = {value: {} for value in values}
    for (_label, value, det), counts in found.items():
        by_value[value][det] = counts
    return {value: _report(window, sums, min_sample_size) for value, sums in by_value.items()}


@dataclass(frozen=True)
class GroupFigure:
    value: str  # the channel, the site's, department's or source's id, the language code
    label: str  # the site's, department's or source's name; "" for none or an unknown language
    figure: DeterminantFigure
    rank: int | None  # 1 = highest share positive among the sufficient groups


def grouped(session: Session, authority: Authority, window: Window, group_by: str, *,
            determinant: str = OVERALL, min_sample_size: int = 30,
            filters: Filters = Filters()) -> list[GroupFigure]:
    """One figure per value of ``group_by``; only groups with enough mentions are ranked (a
    share over three mentions is no place in a league table)."""
    if determinant not in (OVERALL, *DETERMINANTS):
        raise InvalidRequest(f"determinant {determinant!r} is not known",
                             hint=f"use one of {', '.join(DETERMINANTS)}, or none for all")
    found = sums_by(session, authority, window, filters, group_by, (determinant,))
    figures = [figure(determinant, *counts[:3], min_sample_size)
               for (_v, det), counts in sorted(found.items()) if det == determinant]
    values = [v for (v, det) in sorted(found) if det == determinant]
    ranked = sorted((f.share_positive or 0.0, f.n, v) for v, f in zip(values, figures)
                    if f.sufficient)
    rank = {v: i for i, (_s, _n, v) in enumerate(reversed(ranked), start=1)}
    labels = value_labels(session, authority.id, group_by)
    out = [GroupFigure(v, labels.get(v, "" if v in ("", "0") else v), f, rank.get(v))
           for v, f in zip(values, figures, strict=True)]
    return sorted(out, key=lambda g: (g.rank is None, g.rank or 0, -g.figure.n, g.value))
