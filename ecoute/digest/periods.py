"""The periods a digest covers: ISO weeks (``2026-W47``) and months (``2026-11``), in the
authority's time zone, and the moment each subscription's digest of a period is due.

A period is an assessment calendar window (``assessment.windows``) with the key and the
frequency a subscription speaks of."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ecoute.assessment.windows import (
    Window,
    calendar_window,
    parse_calendar,
    previous_window,
    utc_bounds,
)
from ecoute.errors import InvalidRequest
from ecoute.store.models import DigestFrequency

# Stricter than the windows' forms: two digits for a week or a month, no quarter or year.
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    key: str  # 2026-W47 or 2026-11
    frequency: str
    start: date  # first day, inclusive
    end: date  # last day, inclusive

    @property
    def window(self) -> Window:
        return Window(self.start, self.end,
                      "week" if self.frequency == DigestFrequency.WEEKLY else "month")

    @property
    def days(self) -> int:
        return self.window.days

    def utc_bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnights, so a week across a change of summer time
        lasts 167 or 169 hours."""
        return utc_bounds(self.start, self.end, zone)


def _period(window: Window) -> Period:
    """The digest's name for a week or month window."""
    if window.period == "week":
        year, week, _ = window.start.isocalendar()
        return Period(f"{year}-W{week:02d}", DigestFrequency.WEEKLY, window.start, window.end)
    return Period(f"{window.start.year}-{window.start.month:02d}", DigestFrequency.MONTHLY,
                  window.start, window.end)


def week_of(day: date) -> Period:
    return _period(calendar_window("week", day))


def month_of(day: date) -> Period:
    return _period(calendar_window("month", day))


def period_of(day: date, frequency: str) -> Period:
    return week_of(day) if frequency == DigestFrequency.WEEKLY else month_of(day)


def previous(period: Period) -> Period:
    return _period(previous_window(period.window))


def following(period: Period) -> Period:
    return period_of(period.end + timedelta(days=1), period.frequency)


def last_complete(frequency: str, today: date) -> Period:
    """The newest period that ended before ``today`` (a local date)."""
    return previous(period_of(today, frequency))


def parse_period(spec: str) -> Period:
    """``2026-W47`` (an ISO week) or ``2026-11`` (a month)."""
    text = spec.strip().upper()
    if _WEEK.match(text) or _MONTH.match(text):
        try:
            window = parse_calendar(text)
        except InvalidRequest:  # 2026-W54, 2026-13: said below in the digest's words
            window = None
        if window is not None:
            return _period(window)
    raise InvalidRequest(f"period {spec!r} is not understood",
                         hint="write an ISO week such as 2026-W47 or a month such as 2026-11")


def due_at(period: Period, weekday: int, hour: int, zone: ZoneInfo) -> datetime:
    """When the digest of ``period`` goes out (UTC): the first ``weekday`` at ``hour``, local
    time, once the period is over (for a month, the first such weekday of the next month)."""
    day = period.end + timedelta(days=1)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return datetime.combine(day, time(hour), zone).astimezone(timezone.utc)


def due_period(frequency: str, weekday: int, hour: int, zone: ZoneInfo,
               now: datetime) -> Period | None:
    """The period whose digest is due at ``now``: the last complete one once its sending
    time has come, else None (the one before was due last time, and is not sent late)."""
    period = last_complete(frequency, now.astimezone(zone).date())
    return period if now >= due_at(period, weekday, hour, zone) else None
