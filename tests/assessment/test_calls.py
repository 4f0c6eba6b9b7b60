"""Phone queue KPIs from summed intervals, against figures computed by hand."""

from __future__ import annotations

import pytest

from ecoute.assessment.calls import figures_of
from ecoute.store.call_stats import CallSums


def test_rates_and_weighted_means() -> None:
    # Two intervals: 40 offered, 30 answered at 20 s on average, 10 abandoned, level 0.5;
    # 60 offered, 55 answered at 60 s, 5 abandoned, level 0.9.
    sums = CallSums(intervals=2, offered=100, answered=85, abandoned=15,
                    wait_sum=30 * 20 + 55 * 60, wait_weight=85, max_wait_seconds=300.0,
                    level_sum=40 * 0.5 + 60 * 0.9, level_weight=100)
    figures = figures_of(sums)
    assert (figures.intervals, figures.offered, figures.answered, figures.abandoned) == (
        2, 100, 85, 15)
    assert figures.answer_rate == pytest.approx(0.85)
    assert figures.abandon_rate == pytest.approx(0.15)
    assert figures.avg_wait_seconds == pytest.approx(3900 / 85)  # 45.9 s, not (20 + 60) / 2
    assert figures.service_level == pytest.approx(0.74)  # not (0.5 + 0.9) / 2
    assert figures.max_wait_seconds == 300.0


def test_nothing_to_divide_by_gives_no_figure() -> None:
    figures = figures_of(CallSums(intervals=1, offered=0, answered=0, abandoned=0,
                                  wait_sum=0.0, wait_weight=0, max_wait_seconds=None,
                                  level_sum=0.0, level_weight=0))
    assert (figures.answer_rate, figures.abandon_rate, figures.avg_wait_seconds,
            figures.service_level, figures.max_wait_seconds) == (None, None, None, None, None)
