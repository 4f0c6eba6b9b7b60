"""Working days: weekends, French public holidays (Easter-based ones included), closed days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecoute.assessment.working_days import (
    WorkingCalendar,
    easter_sunday,
    french_holidays,
    working_calendar,
)

FR = WorkingCalendar("fr")


@pytest.mark.parametrize(("year", "easter"), [
    (2000, date(2000, 4, 23)), (2019, date(2019, 4, 21)), (2024, date(2024, 3, 31)),
    (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)), (2038, date(2038, 4, 25)),
])
def test_easter(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_the_eleven_french_holidays_of_2026() -> None:
    days = french_holidays(2026)
    assert len(days) == 11
    assert {date(2026, 4, 6), date(2026, 5, 14), date(2026, 5, 25),
            date(2026, 11, 11)} <= set(days)  # Easter Monday, Ascension, Whit Monday
    alsace = french_holidays(2026, alsace_moselle=True)
    assert set(alsace) - set(days) == {date(2026, 4, 3), date(2026, 12, 26)}


@pytest.mark.parametrize(("start", "days", "due"), [
    (date(2026, 11, 6), 1, date(2026, 11, 9)),  # Friday → Monday
    (date(2026, 11, 7), 1, date(2026, 11, 9)),  # received on a Saturday
    (date(2026, 11, 10), 1, date(2026, 11, 12)),  # Wednesday 11 November is a holiday
    (date(2026, 4, 3), 1, date(2026, 4, 7)),  # Good Friday → Easter Monday skipped
    (date(2026, 12, 18), 15, date(2027, 1, 12)),  # Christmas and New Year's day skipped
    (date(2026, 11, 2), 0, date(2026, 11, 2)),
])
def test_due_dates_skip_weekends_and_holidays(start: date, days: int, due: date) -> None:
    assert FR.add_working_days(start, days) == due
    assert FR.working_days_between(start, due) == days


def test_regional_calendar_and_closed_days() -> None:
    thursday = date(2026, 4, 2)
    assert FR.add_working_days(thursday, 1) == date(2026, 4, 3)
    assert working_calendar("fr-alsace-moselle").add_working_days(thursday, 1) == date(2026, 4, 7)
    bridge = working_calendar("fr", [date(2026, 5, 15)])  # the Friday after Ascension
    assert bridge.add_working_days(date(2026, 5, 13), 1) == date(2026, 5, 18)
    assert working_calendar("none").add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 25)
    with pytest.raises(ValueError, match="unknown holiday calendar"):
        working_calendar("de")


def test_an_answer_on_the_day_or_before_counts_zero_days() -> None:
    assert FR.working_days_between(date(2026, 11, 2), date(2026, 11, 2)) == 0
    assert FR.working_days_between(date(2026, 11, 2), date(2026, 10, 1)) == 0


def _naive_between(calendar: WorkingCalendar, start: date, end: date) -> int:
    return sum(1 for n in range(1, (end - start).days + 1)
               if calendar.is_working_day(start + timedelta(days=n)))


@given(start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
       days=st.integers(min_value=0, max_value=400),
       holidays=st.sampled_from(["fr", "fr-alsace-moselle", "none"]))
def test_counting_and_adding_agree(start: date, days: int, holidays: str) -> None:
    calendar = working_calendar(holidays, [date(2026, 5, 15), date(2027, 12, 24)])
    due = calendar.add_working_days(start, days)
    assert calendar.is_working_day(due) or days == 0
    assert calendar.working_days_between(start, due) == days
    span_end = start + timedelta(days=days)
    assert calendar.working_days_between(start, span_end) == _naive_between(
        calendar, start, span_end)
