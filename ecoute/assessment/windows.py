"""The windows a figure covers: rolling days, calendar periods, explicit dates.

Every date is a day in the authority's time zone (the rollups count each item on its local
day), so a window is a plain range of dates and a change of daylight saving time moves no
item from one day to another. Weeks are ISO weeks (Monday to Sunday, week 1 holds the first
Thursday of the year).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ecoute.errors import InvalidRequest
from ecoute.store.rollups import DAY, MONTH, Span

#: Calendar periods; as a window on their own they run from the period's start to today.
PERIODS = ("week", "month", "quarter", "year")
#: The longest window a figure covers.
MAX_DAYS = 9999

_DAYS = re.compile(r"^(\d{1,4})d$")
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
HINT = ("use a number of days (7d, 30d, 365d), a calendar period so far (week, month, quarter, "
        "year) or a whole one (2026-W47, 2026-11, 2026-Q4, 2026), or from and to dates")


@dataclass(frozen=True)
class Window:
    start: date  # inclusive
    end: date  # inclusive
    #: The calendar period the window is (or runs to date in); None for a span of days.
    period: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_start(period: str, day: date) -> date:
    """The first day of the calendar ``period`` that holds ``day``."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def period_end(period: str, day: date) -> date:
    """The last day of the calendar ``period`` that holds ``day``."""
    if period == "week":
        return period_start("week", day) + timedelta(days=6)
    if period == "year":
        return day.replace(month=12, day=31)
    months = 3 if period == "quarter" else 1
    first = period_start(period, day)
    month = first.month - 1 + months
    return date(first.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def calendar_window(period: str, day: date) -> Window:
    """The whole calendar ``period`` (week, month, quarter, year) that holds ``day``."""
    return Window(period_start(period, day), period_end(period, day), period)


def utc_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants the local days ``first`` to ``last`` (inclusive) begin and end: local
    midnights, so a week across a change of summer time lasts 167 or 169 hours."""
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _refuse(spec: str) -> InvalidRequest:
    return InvalidRequest(f"window {spec!r} is not understood", hint=HINT)


def parse_calendar(spec: str) -> Window | None:
    """A whole calendar period: ``2026-W47``, ``2026-11``, ``2026-Q4``, ``2026``; None for
    anything else, InvalidRequest for a period that does not exist (2026-W54, 2026-13)."""
    try:
        if m := _WEEK.match(spec):
            return calendar_window("week", date.fromisocalendar(int(m.group(1)),
                                                                int(m.group(2)), 1))
        if m := _MONTH.match(spec):
            return calendar_window("month", date(int(m.group(1)), int(m.group(2)), 1))
        if m := _QUARTER.match(spec):
            return calendar_window("quarter",
                                   date(int(m.group(1)), (int(m.group(2)) - 1) * 3 + 1, 1))
        if m := _YEAR.match(spec):
            return calendar_window("year", date(int(m.group(1)), 1, 1))
    except ValueError as exc:  # week 53 of a 52-week year, month 13, year 0
        raise _refuse(spec) from exc
    return None


def parse_window(spec: str, today: date) -> Window:
    """``30d`` (ending today), ``month`` (this month so far), ``2026-W47``, ``2026-11``,
    ``2026-Q4``, ``2026`` (the whole period)."""
    spec = spec.strip()
    if m := _DAYS.match(spec):
        days = int(m.group(1))
        if days < 1:
            raise _refuse(spec)
        return Window(start=today - timedelta(days=days - 1), end=today)
    if spec.lower() in PERIODS:
        return Window(period_start(spec.lower(), today), today, spec.lower())
    window = parse_calendar(spec)
    if window is None:
        raise _refuse(spec)
    return window


def window_between(start: date | None, end: date | None, today: date) -> Window:
    """``from``..``to`` (both included; ``to`` defaults to today)."""
    if start is None:
        raise InvalidRequest("a 'to' date needs a 'from' date", hint="give from=YYYY-MM-DD too")
    end = end or today
    if end < start:
        raise InvalidRequest(f"'from' ({start}) is after 'to' ({end})",
                             hint="give from before to")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidRequest(f"{start}..{end} is longer than {MAX_DAYS} days",
                             hint="choose a shorter span")
    return Window(start, end)


def previous_window(window: Window) -> Window:
    """The window just before: as many days before a span of days, the whole previous
    period before a calendar period (a month so far is compared with the whole last month)."""
    if window.period is None:
        end = window.start - timedelta(days=1)
        return Window(end - timedelta(days=window.days - 1), end)
    end = window.start - timedelta(days=1)
    return Window(period_start(window.period, end), end, window.period)


def _a_year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def year_before(window: Window) -> Window:
    """The same window a year earlier (an ISO week: the same weekdays 52 weeks earlier)."""
    if window.period == "week":
        return replace(window, start=window.start - timedelta(weeks=52),
                       end=window.end - timedelta(weeks=52))
    return replace(window, start=_a_year_earlier(window.start), end=_a_year_earlier(window.end))


def spans(window: Window) -> list[Span]:
    """The window as rollup spans: the whole months inside it from month rows, the days
    before and after them from day rows (a year reads about 12 + 60 rows per series, not
    365)."""
    first_month = window.start if window.start.day == 1 else \
        period_end("month", window.start) + timedelta(days=1)
    after_last = window.end + timedelta(days=1)
    # The last day of the last whole month: the day before the 1st of after_last's month.
    last_month_end = after_last - timedelta(days=after_last.day)
    if first_month > last_month_end:
        return [Span(DAY, window.start, window.end)]
    out = [Span(DAY, window.start, first_month - timedelta(days=1)),
           Span(MONTH, first_month, last_month_end.replace(day=1)),
           Span(DAY, last_month_end + timedelta(days=1), window.end)]
    return [s for s in out if s.first <= s.last]
