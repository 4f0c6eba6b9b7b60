from __future__ import annotations

import pytest

from ecoute.assessment.statistics import (
    Interval,
    net_score,
    two_proportion_p_value,
    wilson_interval,
)


def test_wilson_interval_matches_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857-872, table I: 81/263 → 0.2553–0.3662.
    interval = wilson_interval(81, 263)
    assert interval is not None
    assert (interval.low, interval.high) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    # 15/148 → 0.0624–0.1605 (same table).
    interval = wilson_interval(15, 148)
    assert interval is not None
    assert (interval.low, interval.high) == pytest.approx((0.0624, 0.1605), abs=1e-4)


def test_wilson_edges() -> None:
    assert wilson_interval(0, 0) is None
    zero = wilson_interval(0, 10)
    full = wilson_interval(10, 10)
    assert zero is not None and zero.low == 0.0 and 0.25 < zero.high < 0.35
    assert full is not None and full.high == pytest.approx(1.0) and 0.65 < full.low < 0.75
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_two_proportion_test() -> None:
    # 60/100 vs 40/100: z = 2.828, two-sided p = 0.00468.
    assert two_proportion_p_value(60, 100, 40, 100) == pytest.approx(0.00468, abs=1e-4)
    assert two_proportion_p_value(5, 10, 5, 10) == pytest.approx(1.0)
    assert two_proportion_p_value(1, 0, 1, 2) is None


def test_net_score() -> None:
    assert net_score(6, 3, 1) == pytest.approx(0.3)
    assert net_score(0, 0, 0) is None


def test_t_quantiles_against_tables() -> None:
    from ecoute.assessment.statistics import t_quantile_975

    # Student's t tables, two-sided 95 %.
    table = {1: 12.706, 3: 3.182, 10: 2.228, 11: 2.201, 15: 2.131, 20: 2.086, 30: 2.042,
             60: 2.000, 120: 1.980}
    for df, value in table.items():
        assert t_quantile_975(df) == pytest.approx(value, abs=6e-4)
    assert t_quantile_975(10**6) == pytest.approx(1.95996, abs=1e-5)


def test_mean_and_net_promoter_intervals_by_hand() -> None:
    from ecoute.assessment.statistics import mean_interval, net_promoter_interval

    # Mean 0.5, variance 0.04 over 10: 0.5 ± 2.262157 × 0.2 / √10.
    interval = mean_interval(10, 0.5, 0.04)
    assert interval is not None
    assert interval.low == pytest.approx(0.5 - 2.262157 * 0.2 / 10**0.5)
    assert mean_interval(1, 0.5, 0.0) is None
    assert mean_interval(2, 0.9, 0.5) == Interval(0.0, 1.0)  # kept on the scale
    # 50 promoters, 20 detractors of 100: 0.3 ± 1.96 × √((0.7 − 0.09) / 100).
    nps = net_promoter_interval(50, 20, 100)
    assert nps is not None
    assert (nps.low, nps.high) == pytest.approx((0.3 - 0.15308, 0.3 + 0.15308), abs=1e-4)
    assert net_promoter_interval(0, 0, 0) is None
    with pytest.raises(ValueError):
        net_promoter_interval(3, 2, 4)
