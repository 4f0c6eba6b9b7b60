"""Weeks and months in the authority's time zone, across changes of summer time."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from ecoute.digest.periods import (
    due_at,
    due_period,
    last_complete,
    month_of,
    parse_period,
    previous,
    week_of,
)
from ecoute.errors import InvalidRequest

PARIS = ZoneInfo("Europe/Paris")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_iso_weeks_and_months() -> None:
    week = parse_period("2026-W47")
    assert (week.start, week.end, week.days) == (date(2026, 11, 16), date(2026, 11, 22), 7)
    assert week_of(date(2026, 11, 22)) == week and previous(week).key == "2026-W46"
    # ISO week 1 of 2027 starts in 2027, week 53 of 2026 ends in 2027.
    assert parse_period("2026-W53").end == date(2027, 1, 3)
    assert previous(parse_period("2027-W01")).key == "2026-W53"
    month = parse_period("2026-02")
    assert (month.start, month.end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert previous(parse_period("2026-01")).key == "2025-12"
    assert month_of(date(2028, 2, 10)).end == date(2028, 2, 29)


@pytest.mark.parametrize("spec", ["2026-W54", "2026-13", "2026-W7", "last week", ""])
def test_a_period_that_is_not_one_is_refused_with_the_form_to_use(spec: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_period(spec)
    assert "2026-W47" in (caught.value.hint or "")


def test_the_week_of_the_autumn_change_lasts_169_hours_and_the_spring_one_167() -> None:
    autumn = parse_period("2026-W43")  # Sunday 25 October 2026: 03:00 CEST → 02:00 CET
    low, high = autumn.utc_bounds(PARIS)
    assert low == utc(2026, 10, 18, 22) and high == utc(2026, 10, 25, 23)
    assert (high - low).total_seconds() == 169 * 3600
    spring_low, spring_high = parse_period("2026-W13").utc_bounds(PARIS)  # 29 March 2026
    assert (spring_high - spring_low).total_seconds() == 167 * 3600


def test_monday_eight_o_clock_is_local_time_on_both_sides_of_the_change() -> None:
    summer = parse_period("2026-W42")
    assert due_at(summer, 0, 8, PARIS) == utc(2026, 10, 19, 6)  # 08:00 CEST
    winter = parse_period("2026-W43")
    assert due_at(winter, 0, 8, PARIS) == utc(2026, 10, 26, 7)  # 08:00 CET
    assert due_period("weekly", 0, 8, PARIS, utc(2026, 10, 26, 6, 59)) is None
    assert due_period("weekly", 0, 8, PARIS, utc(2026, 10, 26, 7, 0)) == winter
    # Later in the week the same period stays the due one; the week after, the next.
    assert due_period("weekly", 0, 8, PARIS, utc(2026, 10, 30, 12)) == winter
    assert due_period("weekly", 0, 8, PARIS, utc(2026, 11, 2, 7)).key == "2026-W44"


def test_a_monthly_digest_goes_on_the_first_chosen_weekday_of_the_next_month() -> None:
    october = parse_period("2026-10")
    # 1 November 2026 is a Sunday: the first Tuesday is the 3rd.
    assert due_at(october, 1, 9, PARIS) == utc(2026, 11, 3, 8)
    assert due_period("monthly", 1, 9, PARIS, utc(2026, 11, 2, 12)) is None
    assert due_period("monthly", 1, 9, PARIS, utc(2026, 11, 3, 8)) == october


def test_the_last_complete_period_is_the_local_one() -> None:
    # Monday 00:30 in Paris is still Sunday in UTC: the local week has just ended.
    now = utc(2026, 11, 22, 23, 30)
    assert last_complete("weekly", now.astimezone(PARIS).date()).key == "2026-W47"
    assert last_complete("weekly", now.date()).key == "2026-W46"
