"""What the dashboard shows, asked of the assessment layer in one place.

Every figure a page draws comes through the functions of this module, which only call
``ecoute.assessment``: when the assessment layer offers a figure itself (calendar windows,
series, comparisons), the function here is the one line to change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ecoute.assessment.backup_effect import BackupEffect, backup_effect
from ecoute.assessment.backup_team import TeamStatus, team_statuses
from ecoute.assessment.call_facts import CallFacts, call_facts
from ecoute.assessment.comparisons import change
from ecoute.assessment.satisfaction import (
    DeterminantFigure,
    Filters,
    SatisfactionReport,
    check_combinable,
    group_reports,
    reports,
    satisfaction,
)
from ecoute.assessment.ratings import RatingsReport, ratings
from ecoute.assessment.volumes import channel_volumes
from ecoute.assessment.windows import (
    PERIODS,
    Window,
    parse_window,
    period_start,
    previous_window,
)
from ecoute.domain import Channel
from ecoute.errors import InvalidRequest
from ecoute.store.models import Authority
from ecoute.store.ratings import RatingFilters

__all__ = ["Card", "Column", "DEFAULT_WINDOW", "Filters", "Overview", "Period", "WINDOWS",
           "calendar_windows", "combinable", "compare", "figure_of", "overview", "trend",
           "window_pair"]

#: The windows a person can choose besides the whole calendar periods of
#: :func:`calendar_windows`; rolling ones end today, calendar ones run from the start of the
#: current week, month, quarter or year to today.
WINDOWS = ("7d", "30d", "90d", "week", "month", "quarter", "year")
DEFAULT_WINDOW = "30d"
STEPS = {"week": 13, "month": 12}


def period_name(period: str, day: date) -> str:
    """The name of the whole calendar ``period`` holding ``day``, as the assessment windows
    read it: ``2026-W48``, ``2026-11``, ``2026-Q4``, ``2026``."""
    if period == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def calendar_windows(today: date) -> list[str]:
    """The whole current and previous calendar weeks, months, quarters and years, most recent
    first within each kind of period."""
    names = []
    for period in PERIODS:
        current = period_start(period, today)
        names += [period_name(period, current),
                  period_name(period, period_start(period, current - timedelta(days=1)))]
    return names


def window_pair(spec: str, today: date) -> tuple[Window, Window]:
    """The chosen window and the one before it (of the same length, or the whole previous
    calendar period)."""
    refused = InvalidRequest(
        f"period {spec!r} is not one the dashboard offers",
        hint=f"choose one of {', '.join(WINDOWS)}, or a whole week, month, quarter or year "
             "such as " + ", ".join(calendar_windows(today)[::2]))
    try:
        current = parse_window(spec, today)
    except InvalidRequest as exc:
        raise refused from exc
    # Besides the listed choices, any whole calendar period is read, so that a link kept from
    # last month still works; other spans of days (365d) are the API's.
    if spec not in WINDOWS and (current.period is None or spec.lower() in PERIODS):
        raise refused
    return current, previous_window(current)


def combinable(filters: Filters) -> bool:
    """Whether the rollups answer these filters together (a source or a language only
    alone)."""
    if len(filters.dimensions()) < 2:
        return True
    try:
        check_combinable(filters)
    except InvalidRequest:
        return False
    return True


@dataclass(frozen=True)
class Card:
    """One determinant (or the overall sentiment) over the window, with its change."""

    figure: DeterminantFigure
    previous: DeterminantFigure
    change: float | None  # share positive now minus before
    p_value: float | None
    significant: bool
    #: Accessibility and waiting time: the phone figures of the window, shown under the card
    #: apart from the mentions.
    facts: CallFacts | None = None

    @property
    def direction(self) -> str | None:
        if not self.significant or self.change is None or self.change == 0:
            return None
        return "up" if self.change > 0 else "down"


def _card(now: DeterminantFigure, before: DeterminantFigure, previous: Window) -> Card:
    compared = change(now, before, previous)
    return Card(now, before, compared.difference, compared.p_value, compared.significant)


@dataclass(frozen=True)
class Overview:
    window: Window
    previous: Window
    overall: Card
    cards: list[Card]
    channels: dict[str, int]
    min_sample_size: int


def _report(session: Session, authority: Authority, window: Window, min_n: int,
            filters: Filters) -> SatisfactionReport:
    return satisfaction(session, authority, window, min_sample_size=min_n, filters=filters)


def overview(session: Session, authority: Authority, spec: str, today: date, *,
             min_sample_size: int, filters: Filters = Filters()) -> Overview:
    """The overview page's figures: every determinant with its change, volumes (ratings are
    :func:`rating_overview`'s)."""
    current, previous = window_pair(spec, today)
    now, before = reports(session, authority, [current, previous],
                          min_sample_size=min_sample_size, filters=filters)
    volumes = channel_volumes(session, authority, current, site_id=filters.site_id,
                              department_id=filters.department_id)
    if filters.channel:
        volumes = {c: n for c, n in volumes.items() if c == filters.channel}
    facts = None
    if filters.channel in (None, Channel.PHONE.value):
        facts = call_facts(session, authority, current.start, current.end,
                           department_id=filters.department_id, site_id=filters.site_id)
    cards = [_card(a, b, previous)
             for a, b in zip(now.determinants, before.determinants, strict=True)]
    return Overview(
        window=current, previous=previous, overall=_card(now.overall, before.overall, previous),
        cards=[replace(c, facts=facts) if facts and facts.of(c.figure.determinant) else c
               for c in cards],
        channels=volumes,
        min_sample_size=min_sample_size,
    )


def rating_overview(session: Session, authority: Authority, spec: str, today: date, *,
                    min_sample_size: int, filters: Filters = Filters()) -> RatingsReport:
    """The overview's ratings block: mean, CSAT share and NPS per rating scale over the chosen
    window, beside the previous one."""
    current, previous = window_pair(spec, today)
    return ratings(session, authority, current, min_sample_size=min_sample_size,
                   previous=previous,
                   filters=RatingFilters(channel=filters.channel, site_id=filters.site_id,
                                         department_id=filters.department_id))


def figure_of(session: Session, authority: Authority, window: Window, determinant: str | None,
              *, min_sample_size: int, filters: Filters = Filters()) -> DeterminantFigure:
    """One determinant's figure (the overall sentiment's for None) over ``window``."""
    return _report(session, authority, window, min_sample_size, filters).figure(determinant)


@dataclass(frozen=True)
class Period:
    window: Window
    figures: dict[str, DeterminantFigure]  # by determinant, the overall sentiment under ""


def _periods(step: str, today: date) -> list[Window]:
    count = STEPS[step]
    ends: list[Window] = []
    start = period_start(step, today)
    end = today
    for _ in range(count):
        ends.append(Window(start, end))
        end = start - timedelta(days=1)
        start = period_start(step, end)
    return ends[::-1]


def trend(session: Session, authority: Authority, step: str, today: date, *,
          min_sample_size: int, filters: Filters = Filters()) -> list[Period]:
    """One figure per determinant per calendar week or month, oldest first; the current
    period runs to today."""
    if step not in STEPS:
        raise InvalidRequest(f"step {step!r} is not understood", hint="use week or month")
    periods = []
    windows = _periods(step, today)
    for window, report in zip(windows, reports(session, authority, windows,
                                                min_sample_size=min_sample_size,
                                                filters=filters), strict=True):
        figures = {f.determinant: f for f in report.determinants}
        figures[""] = report.overall
        periods.append(Period(window, figures))
    return periods


@dataclass(frozen=True)
class Column:
    """The figures of the whole authority (``group_id`` None) or of one group."""

    name: str | None
    group_id: int | None
    report: SatisfactionReport


def compare(session: Session, authority: Authority, spec: str, today: date, *,
            min_sample_size: int, by: str, groups: list[tuple[int, str]]) -> list[Column]:
    """The whole authority's figures beside each department's (``by="department"``) or each
    site's, over the chosen window."""
    current, _previous = window_pair(spec, today)
    whole = _report(session, authority, current, min_sample_size, Filters())
    per_group = group_reports(session, authority, current, by,
                              [str(group_id) for group_id, _name in groups],
                              min_sample_size=min_sample_size)
    return [Column(None, None, whole),
            *(Column(name, group_id, per_group[str(group_id)]) for group_id, name in groups)]


@dataclass(frozen=True)
class PhoneTeams:
    teams: list[TeamStatus]
    effect: BackupEffect


def phone_teams(session: Session, authority: Authority, spec: str, today: date,
                now: datetime) -> PhoneTeams:
    """The back-up teams now, and their effect over the chosen window."""
    current, _previous = window_pair(spec, today)
    zone = ZoneInfo(authority.timezone)
    start = datetime.combine(current.start, time(), zone)
    end = datetime.combine(current.end + timedelta(days=1), time(), zone)
    return PhoneTeams(teams=team_statuses(session, authority, now),
                      effect=backup_effect(session, authority.id, start, end, now))
