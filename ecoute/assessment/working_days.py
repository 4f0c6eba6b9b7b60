"""Working days: weekends and public holidays, computed for any year.

An authority promises answers "within 15 working days": a day counts when it is neither a
Saturday, a Sunday nor a public holiday of the authority's calendar. French public holidays
are computed from the date of Easter (Gregorian computus), so no list of years runs out;
Alsace and Moselle add Good Friday and St Stephen's day. ``extra`` days (a local holiday, a
bridge day the offices close) are added by settings.

Durations count the working days after the day of receipt up to and including the day of the
answer, on the authority's local dates: received on a Friday and answered the next Monday is
one working day; answered the same day, zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

CALENDARS = ("FR", "FR-alsace-moselle", "none")


def easter_sunday(year: int) -> date:
    """Gregorian Easter (the anonymous algorithm of Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    lw = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * lw) // 451
    month, day = divmod(h + lw - 7 * m + 114, 31)
    return date(year, month, day + 1)


def french_holidays(year: int, *, alsace_moselle: bool = False) -> set[date]:
    """The public holidays of France in ``year`` (Code du travail, L3133-1)."""
    easter = easter_sunday(year)
    days = {
        date(year, 1, 1), easter + timedelta(days=1), date(year, 5, 1), date(year, 5, 8),
        easter + timedelta(days=39), easter + timedelta(days=50), date(year, 7, 14),
        date(year, 8, 15), date(year, 11, 1), date(year, 11, 11), date(year, 12, 25),
    }
    if alsace_moselle:
        days |= {easter - timedelta(days=2), date(year, 12, 26)}
    return days


@lru_cache(maxsize=64)
def _holidays(calendar: str, first: int, last: int) -> tuple[date, ...]:
    if calendar == "none":
        return ()
    days: set[date] = set()
    for year in range(first, last + 1):
        days |= french_holidays(year, alsace_moselle=calendar == "FR-alsace-moselle")
    return tuple(sorted(days))


class WorkingCalendar:
    """Which days are worked: Monday to Friday, minus the calendar's holidays and ``extra``."""

    def __init__(self, calendar: str = "FR", extra: Iterable[date] = ()) -> None:
        if calendar not in CALENDARS:
            raise ValueError(f"unknown holiday calendar {calendar!r}; one of {CALENDARS}")
        self.calendar = calendar
        self.extra = frozenset(extra)

    def holidays(self, first: date, last: date) -> list[date]:
        """The holidays between ``first`` and ``last`` (inclusive)."""
        known = _holidays(self.calendar, first.year, last.year)
        return sorted(d for d in {*known, *self.extra} if first <= d <= last)

    def is_working(self, day: date) -> bool:
        return day.weekday() < 5 and not self.holidays(day, day)

    def working_days_between(self, starts: Sequence[date], ends: Sequence[date]) -> np.ndarray:
        """Per pair, the working days after ``starts[i]`` up to and including ``ends[i]``
        (0 when the end is not after the start)."""
        if not len(starts):
            return np.zeros(0, dtype=np.int64)
        begin = np.array(starts, dtype="datetime64[D]") + 1
        end = np.array(ends, dtype="datetime64[D]") + 1
        low, high = min(min(starts), min(ends)), max(max(starts), max(ends))
        holidays = np.array(self.holidays(low, high + timedelta(days=1)), dtype="datetime64[D]")
        counted = np.busday_count(begin, np.maximum(begin, end), holidays=holidays)
        return np.asarray(counted, dtype=np.int64)

    def add_working_days(self, start: date, days: int) -> date:
        """The day ``days`` working days after ``start`` (the last day of a promise)."""
        holidays = np.array(self.holidays(start, start + timedelta(days=days * 2 + 30)),
                            dtype="datetime64[D]")
        moved = np.busday_offset(np.datetime64(start, "D"), days, roll="backward",
                                 holidays=holidays)
        return date.fromisoformat(str(moved))
