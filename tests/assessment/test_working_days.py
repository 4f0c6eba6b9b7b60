"""Working days: weekends, French public holidays computed for any year, extra days."""

from __future__ import annotations

from datetime import date

import pytest

from ecoute.assessment.working_days import WorkingCalendar, easter_sunday, french_holidays


@pytest.mark.parametrize(("year", "easter"), [
    (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)),
    (2038, date(2038, 4, 25)), (2285, date(2285, 3, 22)),  # the earliest possible Easter
    (1943, date(1943, 4, 25)),  # the latest
])
def test_easter(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_french_holidays_of_2026() -> None:
    assert sorted(french_holidays(2026)) == [
        date(2026, 1, 1), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 8),
        date(2026, 5, 14), date(2026, 5, 25), date(2026, 7, 14), date(2026, 8, 15),
        date(2026, 11, 1), date(2026, 11, 11), date(2026, 12, 25)]
    added = french_holidays(2026, alsace_moselle=True) - french_holidays(2026)
    assert added == {date(2026, 4, 3), date(2026, 12, 26)}


def test_working_days_between_skip_weekends_and_holidays() -> None:
    france = WorkingCalendar("FR")
    pairs = [
        (date(2026, 5, 4), date(2026, 5, 4), 0),    # answered the day it came
        (date(2026, 5, 15), date(2026, 5, 18), 1),  # Friday to Monday
        (date(2026, 5, 16), date(2026, 5, 18), 1),  # received on a Saturday
        (date(2026, 5, 7), date(2026, 5, 11), 1),   # over 8 May (a Friday) and the weekend
        (date(2026, 5, 13), date(2026, 5, 18), 2),  # over Ascension Thursday
        (date(2026, 5, 4), date(2026, 5, 29), 16),  # May 2026: 3 holidays on weekdays
        (date(2026, 12, 24), date(2027, 1, 4), 5),  # over two years' holidays
        (date(2026, 5, 18), date(2026, 5, 11), 0),  # answered "before" it came: no time
    ]
    starts, ends, expected = zip(*pairs, strict=True)
    assert france.working_days_between(starts, ends).tolist() == list(expected)
    weekends_only = WorkingCalendar("none").working_days_between(starts, ends).tolist()
    assert weekends_only == [0, 1, 1, 2, 3, 19, 7, 0]
    closed = WorkingCalendar("FR", extra=[date(2026, 5, 15)])
    assert closed.working_days_between([date(2026, 5, 13)], [date(2026, 5, 18)]).tolist() == [1]
    assert WorkingCalendar("FR").working_days_between([], []).tolist() == []


def test_promise_deadlines() -> None:
    france = WorkingCalendar("FR")
    assert france.add_working_days(date(2026, 5, 7), 1) == date(2026, 5, 11)
    assert france.add_working_days(date(2026, 5, 9), 1) == date(2026, 5, 11)  # a Saturday
    assert france.add_working_days(date(2026, 5, 13), 1) == date(2026, 5, 15)
    assert france.add_working_days(date(2026, 5, 4), 15) == date(2026, 5, 28)  # 8, 14, 25 off
    assert not france.is_working(date(2026, 5, 25)) and france.is_working(date(2026, 5, 26))
    with pytest.raises(ValueError, match="unknown holiday calendar"):
        WorkingCalendar("DE")
