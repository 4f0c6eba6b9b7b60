"""Windows: rolling days, calendar periods (ISO weeks), explicit dates, the windows they are
compared with, and how they are read from day and month rollup rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecoute.assessment.satisfaction import authority_today
from ecoute.assessment.windows import (
    Window,
    parse_window,
    previous_window,
    spans,
    window_between,
    year_before,
)
from ecoute.errors import InvalidRequest
from ecoute.store.models import Authority
from ecoute.store.rollups import DAY, MONTH

TODAY = date(2026, 11, 30)  # a Monday


@pytest.mark.parametrize(("spec", "start", "end", "period"), [
    ("1d", TODAY, TODAY, None),
    ("30d", date(2026, 11, 1), TODAY, None),
    ("365d", date(2025, 12, 1), TODAY, None),
    ("week", TODAY, TODAY, "week"),
    ("month", date(2026, 11, 1), TODAY, "month"),
    ("quarter", date(2026, 10, 1), TODAY, "quarter"),
    ("year", date(2026, 1, 1), TODAY, "year"),
    ("2026-W47", date(2026, 11, 16), date(2026, 11, 22), "week"),
    ("2026-w01", date(2025, 12, 29), date(2026, 1, 4), "week"),  # ISO: holds 1 January
    ("2020-W53", date(2020, 12, 28), date(2021, 1, 3), "week"),
    ("2026-11", date(2026, 11, 1), date(2026, 11, 30), "month"),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "month"),
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "quarter"),
    ("2026-q1", date(2026, 1, 1), date(2026, 3, 31), "quarter"),
    ("2026", date(2026, 1, 1), date(2026, 12, 31), "year"),
])
def test_windows_are_understood(spec: str, start: date, end: date, period: str | None) -> None:
    assert parse_window(spec, TODAY) == Window(start, end, period)


@pytest.mark.parametrize("spec", ["0d", "a month", "2026-W54", "2026-W00", "2026-13",
                                  "2026-Q5", "10000d", "30", "2026-11-01", "0000"])
def test_unknown_windows_are_refused_with_a_hint(spec: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_window(spec, TODAY)
    assert "30d" in (refused.value.hint or "") and "2026-W47" in (refused.value.hint or "")


def test_from_and_to() -> None:
    assert window_between(date(2026, 3, 1), date(2026, 3, 31), TODAY) == \
        Window(date(2026, 3, 1), date(2026, 3, 31))
    assert window_between(date(2026, 11, 20), None, TODAY).end == TODAY
    for start, end in [(None, date(2026, 3, 1)), (date(2026, 3, 2), date(2026, 3, 1))]:
        with pytest.raises(InvalidRequest):
            window_between(start, end, TODAY)


@pytest.mark.parametrize(("spec", "previous", "a_year_before"), [
    ("30d", Window(date(2026, 10, 2), date(2026, 10, 31)),
     Window(date(2025, 11, 1), date(2025, 11, 30))),
    ("month", Window(date(2026, 10, 1), date(2026, 10, 31), "month"),
     Window(date(2025, 11, 1), date(2025, 11, 30), "month")),
    ("2026-W47", Window(date(2026, 11, 9), date(2026, 11, 15), "week"),
     Window(date(2025, 11, 17), date(2025, 11, 23), "week")),  # 2025-W47, Monday to Sunday
    ("2026-Q1", Window(date(2025, 10, 1), date(2025, 12, 31), "quarter"),
     Window(date(2025, 1, 1), date(2025, 3, 31), "quarter")),
    ("2026", Window(date(2025, 1, 1), date(2025, 12, 31), "year"),
     Window(date(2025, 1, 1), date(2025, 12, 31), "year")),
])
def test_previous_window_and_a_year_before(spec: str, previous: Window,
                                           a_year_before: Window) -> None:
    window = parse_window(spec, TODAY)
    assert previous_window(window) == previous
    assert year_before(window) == a_year_before


def test_a_year_before_29_february() -> None:
    assert year_before(Window(date(2024, 2, 29), date(2024, 2, 29))) == \
        Window(date(2023, 2, 28), date(2023, 2, 28))


@pytest.mark.parametrize(("now", "today"), [
    # Paris: CET (+1) until 29 March 2026 01:00 UTC, CEST (+2) until 25 October 01:00 UTC.
    (datetime(2026, 3, 28, 22, 59, tzinfo=timezone.utc), date(2026, 3, 28)),
    (datetime(2026, 3, 28, 23, 0, tzinfo=timezone.utc), date(2026, 3, 29)),
    (datetime(2026, 3, 29, 21, 59, tzinfo=timezone.utc), date(2026, 3, 29)),
    (datetime(2026, 3, 29, 22, 0, tzinfo=timezone.utc), date(2026, 3, 30)),
    (datetime(2026, 10, 25, 22, 59, tzinfo=timezone.utc), date(2026, 10, 25)),
    (datetime(2026, 10, 25, 23, 0, tzinfo=timezone.utc), date(2026, 10, 26)),
])
def test_today_is_the_authoritys_day_across_daylight_saving(now: datetime,
                                                             today: date) -> None:
    paris = Authority(slug="v", name="V", timezone="Europe/Paris", locale="fr")
    assert authority_today(paris, now) == today
    # A week across the change is seven days, not 168 hours.
    assert parse_window("7d", today).days == 7


@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.integers(0, 800))
def test_spans_cover_the_window_once(start: date, length: int) -> None:
    window = Window(start, start + timedelta(days=length))
    covered: list[date] = []
    for span in spans(window):
        if span.grain == DAY:
            covered += [span.first + timedelta(days=n)
                        for n in range((span.last - span.first).days + 1)]
        else:
            assert span.grain == MONTH and span.first.day == span.last.day == 1
            day = span.first
            while day <= span.last + timedelta(days=31) and (
                    day.year, day.month) <= (span.last.year, span.last.month):
                covered.append(day)
                day += timedelta(days=1)
    assert covered == [window.start + timedelta(days=n) for n in range(window.days)]
    # A long window reads at most about two months of days.
    assert sum((s.last - s.first).days + 1 for s in spans(window) if s.grain == DAY) <= 62
