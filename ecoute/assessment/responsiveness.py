"""Response times from facts: how fast service requests and complaints were answered and
closed, and how many within the authority's promise, per department and site.

Read from the cases' own dates (``Item.received_at``, ``answered_at``, ``closed_at``), not from
what people write. For the cases received in a window:

- time to answer and to close: median and 90th percentile, in calendar days (from the
  timestamps) and in working days (``working_days``: the working days after the day of receipt
  up to the day of the answer, on the authority's local dates); percentiles interpolate
  linearly between the closest ranks;
- the share answered within the promise: answered within ``promise`` working days, over the
  cases the promise can be judged on (answered, or unanswered past the promise), with a Wilson
  interval, sufficient from ``min_sample_size`` cases;
- unanswered, overdue (unanswered past the promise as of today) and still open (not closed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from ecoute.assessment.statistics import Interval, wilson_interval
from ecoute.assessment.satisfaction import Window, authority_today
from ecoute.assessment.working_days import WorkingCalendar
from ecoute.store.handling import Case, cases_received, place_names
from ecoute.store.models import Authority


@dataclass(frozen=True)
class Durations:
    """How long the cases that got there took (answered, or closed)."""

    count: int
    median_days: float | None
    p90_days: float | None
    median_working_days: float | None
    p90_working_days: float | None


@dataclass(frozen=True)
class ResponseFigures:
    group_id: int | None  # the department or site; None for all cases
    name: str
    received: int
    to_answer: Durations
    to_close: Durations
    within_promise: int
    judged: int  # answered, or unanswered past the promise
    share_within_promise: float | None
    interval: Interval | None
    sufficient: bool
    unanswered: int
    overdue: int
    open: int


@dataclass(frozen=True)
class ResponseTimesReport:
    window: Window
    promise_working_days: int
    calendar: str
    min_sample_size: int
    overall: ResponseFigures
    departments: list[ResponseFigures]
    sites: list[ResponseFigures]


def _percentiles(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    median, p90 = np.percentile(np.asarray(values, dtype=float), [50, 90])
    return round(float(median), 2), round(float(p90), 2)


def _durations(calendar: WorkingCalendar, zone: ZoneInfo,
               pairs: list[tuple[datetime, datetime]]) -> Durations:
    days = [max(0.0, (end - start).total_seconds() / 86400) for start, end in pairs]
    working = calendar.working_days_between(
        [start.astimezone(zone).date() for start, _end in pairs],
        [end.astimezone(zone).date() for _start, end in pairs]).tolist()
    median, p90 = _percentiles(days)
    working_median, working_p90 = _percentiles(working)
    return Durations(len(pairs), median, p90, working_median, working_p90)


def figures(cases: list[Case], *, calendar: WorkingCalendar, zone: ZoneInfo, today: date,
            promise: int, min_sample_size: int, group_id: int | None = None,
            name: str = "all") -> ResponseFigures:
    """The figures of ``cases`` (see the module's docstring)."""
    answered = [c for c in cases if c.answered_at is not None]
    closed = [c for c in cases if c.closed_at is not None]
    to_answer = _durations(calendar, zone, [(c.received_at, c.answered_at) for c in answered
                                            if c.answered_at is not None])
    taken = calendar.working_days_between(
        [c.received_at.astimezone(zone).date() for c in answered],
        [c.answered_at.astimezone(zone).date() for c in answered if c.answered_at is not None])
    waiting = [c for c in cases if c.answered_at is None]
    waited = calendar.working_days_between(
        [c.received_at.astimezone(zone).date() for c in waiting], [today] * len(waiting))
    within = int((taken <= promise).sum())
    overdue = int((waited > promise).sum())
    judged = len(answered) + overdue
    return ResponseFigures(
        group_id=group_id, name=name, received=len(cases), to_answer=to_answer,
        to_close=_durations(calendar, zone, [(c.received_at, c.closed_at) for c in closed
                                             if c.closed_at is not None]),
        within_promise=within, judged=judged,
        share_within_promise=within / judged if judged else None,
        interval=wilson_interval(within, judged), sufficient=judged >= min_sample_size,
        unanswered=len(waiting), overdue=overdue, open=len(cases) - len(closed),
    )


def response_times(
    session: Session, authority: Authority, window: Window, *, promise_working_days: int,
    calendar: WorkingCalendar, min_sample_size: int = 30, channel: str | None = None,
    now: datetime | None = None,
) -> ResponseTimesReport:
    """Response times of the cases the authority received in ``window`` (its local days)."""
    zone = ZoneInfo(authority.timezone)
    since = datetime.combine(window.start, time(), zone)
    until = datetime.combine(window.end + timedelta(days=1), time(), zone)
    cases = cases_received(session, authority.id, since, until, channel=channel)
    today = authority_today(authority, now)

    def measure(group: list[Case], group_id: int | None = None, name: str = "all"
                ) -> ResponseFigures:
        return figures(group, calendar=calendar, zone=zone, today=today,
                       promise=promise_working_days, min_sample_size=min_sample_size,
                       group_id=group_id, name=name)

    departments, sites = place_names(session, authority.id)

    def grouped(key: Callable[[Case], int | None], names: dict[int, str]
                ) -> list[ResponseFigures]:
        groups: dict[int, list[Case]] = {}
        for case in cases:
            if (group := key(case)) is not None:
                groups.setdefault(group, []).append(case)
        return sorted((measure(members, group_id=group, name=names.get(group, str(group)))
                       for group, members in groups.items()), key=lambda f: f.name)

    return ResponseTimesReport(
        window=window, promise_working_days=promise_working_days,
        calendar=calendar.calendar, min_sample_size=min_sample_size,
        overall=measure(cases),
        departments=grouped(lambda c: c.department_id, departments),
        sites=grouped(lambda c: c.site_id, sites),
    )
