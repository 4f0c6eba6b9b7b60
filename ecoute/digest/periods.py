"""The periods a digest covers: ISO weeks (``2026-W47``) and months (``2026-11``), in the
authority's time zone, and the moment each subscription's digest of a period is due."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ecoute.errors import InvalidRequest
from ecoute.store.models import DigestFrequency

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    key: str  # 2026-W47 or 2026-11
    frequency: str
    start: date  # first day, inclusive
    end: date  # last day, inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def utc_bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnights, so a week across a change of summer time
        lasts 167 or 169 hours."""
        low = datetime.combine(self.start, time(), zone).astimezone(timezone.utc)
        high = datetime.combine(self.end + timedelta(days=1), time(), zone)
        return low, high.astimezone(timezone.utc)


def week_of(day: date) -> Period:
    year, week, weekday = day.isocalendar()
    start = day - timedelta(days=weekday - 1)
    return Period(f"{year}-W{week:02d}", DigestFrequency.WEEKLY, start, start + timedelta(days=6))


def month_of(day: date) -> Period:
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return Period(f"{day.year}-{day.month:02d}", DigestFrequency.MONTHLY, start,
                  following - timedelta(days=1))


def period_of(day: date, frequency: str) -> Period:
    return week_of(day) if frequency == DigestFrequency.WEEKLY else month_of(day)


def previous(period: Period) -> Period:
    return period_of(period.start - timedelta(days=1), period.frequency)


def following(period: Period) -> Period:
    return period_of(period.end + timedelta(days=1), period.frequency)


def last_complete(frequency: str, today: date) -> Period:
    """The newest period that ended before ``today`` (a local date)."""
    return previous(period_of(today, frequency))


def parse_period(spec: str) -> Period:
    """``2026-W47`` (an ISO week) or ``2026-11`` (a month)."""
    text = spec.strip().upper()
    if match := _WEEK.match(text):
        try:
            monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError:
            monday = None
        if monday is not None:
            return week_of(monday)
    elif match := _MONTH.match(text):
        if 1 <= int(match.group(2)) <= 12:
            return month_of(date(int(match.group(1)), int(match.group(2)), 1))
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
