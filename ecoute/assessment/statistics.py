"""Statistics of satisfaction figures: Wilson intervals and the two-proportion test."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson_interval(successes: int, n: int, z: float = Z95) -> Interval | None:
    """Wilson score interval of a proportion; None when there is no observation.

    Unlike the normal approximation it stays inside [0, 1] and behaves for small n and for
    proportions near 0 or 1, which is where alerts matter.
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} outside 0..n={n}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of H0: p1 == p2 (pooled z-test); None when a sample is empty."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def net_score(pos: int, neg: int, neu: int) -> float | None:
    """Share positive minus share negative, over all mentions."""
    total = pos + neg + neu
    if total == 0:
        return None
    return (pos - neg) / total


def poisson_upper_tail(count: int, mean: float) -> float:
    """P(X >= count) for X ~ Poisson(mean): how surprising a day of ``count`` items is when
    ``mean`` is usual."""
    if count <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    # 1 - P(X <= count - 1), the terms summed in log space so that large means stay finite.
    log_term = -mean
    below = math.exp(log_term)
    for k in range(1, count):
        log_term += math.log(mean) - math.log(k)
        below += math.exp(log_term)
    return max(0.0, 1.0 - below)
