"""Working days: the calendar a response promise is counted in.

A promise such as "an answer within 15 working days" skips weekends and public holidays. The
French public holidays are computed (Easter by the Gregorian computus), so no list has to be
kept up to date; Alsace-Moselle adds Good Friday and St Stephen's day. An authority also
closes on days of its own (a bridge day between a holiday and a weekend): they are given as
extra closed days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal, cast

HolidayCalendar = Literal["fr", "fr-alsace-moselle", "none"]
HOLIDAY_CALENDARS: tuple[str, ...] = ("fr", "fr-alsace-moselle", "none")


def easter_sunday(year: int) -> date:
    """Easter Sunday of the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=256)
def french_holidays(year: int, *, alsace_moselle: bool = False) -> dict[date, str]:
    """The public holidays of France (Code du travail, art. L3133-1) in ``year``."""
    easter = easter_sunday(year)
    days = {
        date(year, 1, 1): "Jour de l'an",
        easter + timedelta(days=1): "Lundi de Pâques",
        date(year, 5, 1): "Fête du Travail",
        date(year, 5, 8): "Victoire 1945",
        easter + timedelta(days=39): "Ascension",
        easter + timedelta(days=50): "Lundi de Pentecôte",
        date(year, 7, 14): "Fête nationale",
        date(year, 8, 15): "Assomption",
        date(year, 11, 1): "Toussaint",
        date(year, 11, 11): "Armistice",
        date(year, 12, 25): "Noël",
    }
    if alsace_moselle:
        days[easter - timedelta(days=2)] = "Vendredi saint"
        days[date(year, 12, 26)] = "Saint-Étienne"
    return days


@dataclass(frozen=True)
class WorkingCalendar:
    """Monday to Friday, minus the public holidays of ``holidays`` and ``closed_days``."""

    holidays: HolidayCalendar = "fr"
    closed_days: frozenset[date] = field(default_factory=frozenset)

    def holiday_name(self, day: date) -> str | None:
        if day in self.closed_days:
            return "closed"
        if self.holidays == "none":
            return None
        return french_holidays(day.year, alsace_moselle=self.holidays == "fr-alsace-moselle") \
            .get(day)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts, so a
        complaint received on a Saturday with a promise of 1 day is due on Monday, or on
        Tuesday when Monday is a holiday). ``days = 0`` is ``start`` itself."""
        if days < 0:
            raise ValueError(f"days must be 0 or more, not {days}")
        current = start
        left = days
        while left:
            current += timedelta(days=1)
            if self.is_working_day(current):
                left -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end`` is on or
        before ``start``): an answer the day a complaint arrived took 0 working days, one the
        next working day took 1."""
        if end <= start:
            return 0
        # Whole weeks at once: a long-forgotten complaint must not cost a loop per day.
        total = 0
        current = start
        weeks = (end - start).days // 7
        if weeks:
            span_end = start + timedelta(days=7 * weeks)
            total += 5 * weeks - self._closed_weekdays(start, span_end)
            current = span_end
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                total += 1
        return total

    def _closed_weekdays(self, start: date, end: date) -> int:
        """Holidays and closed days falling Monday to Friday in (start, end]."""
        closed = set(self.closed_days)
        if self.holidays != "none":
            for year in range(start.year, end.year + 1):
                closed.update(french_holidays(
                    year, alsace_moselle=self.holidays == "fr-alsace-moselle"))
        return sum(1 for day in closed if start < day <= end and day.weekday() < 5)


def working_calendar(holidays: str, closed_days: Iterable[date] = ()) -> WorkingCalendar:
    """A calendar from the settings' names; an unknown calendar is refused with the known."""
    if holidays not in HOLIDAY_CALENDARS:
        raise ValueError(f"unknown holiday calendar {holidays!r}; use one of "
                         f"{', '.join(HOLIDAY_CALENDARS)}")
    return WorkingCalendar(holidays=cast(HolidayCalendar, holidays),
                           closed_days=frozenset(closed_days))
