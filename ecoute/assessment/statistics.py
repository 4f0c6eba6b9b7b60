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


#: Student's t 97.5 % quantiles for 1 to 10 degrees of freedom (statistical tables), where the
#: expansion below is not precise enough.
_T975 = (12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004,
         2.262157, 2.228139)


def t_quantile_975(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom (two-sided 95 %).

    From the table up to 10 degrees of freedom, from the Cornish-Fisher expansion around the
    normal quantile beyond (off by less than 4e-6 there), so no statistics library is needed."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, not {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    z = Z95
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def mean_interval(n: int, mean: float, variance: float, low: float = 0.0,
                  high: float = 1.0) -> Interval | None:
    """95 % t interval of a mean from ``n`` observations with sample ``variance`` (n − 1 in the
    denominator), kept inside the scale's ``low``..``high``; None below two observations."""
    if n < 2:
        return None
    half = t_quantile_975(n - 1) * math.sqrt(max(variance, 0.0) / n)
    return Interval(max(low, mean - half), min(high, mean + half))


def net_promoter_interval(promoters: int, detractors: int, n: int,
                          z: float = Z95) -> Interval | None:
    """95 % interval of a Net Promoter Score (as a difference of shares, −1..1).

    The NPS is p+ − p− of one multinomial sample, so its variance is
    (p+ + p− − (p+ − p−)²) / n; the interval is the normal one, kept inside −1..1."""
    if n <= 0:
        return None
    if not (0 <= promoters and 0 <= detractors and promoters + detractors <= n):
        raise ValueError(f"promoters={promoters}, detractors={detractors} do not fit n={n}")
    p_plus, p_minus = promoters / n, detractors / n
    score = p_plus - p_minus
    half = z * math.sqrt(max(p_plus + p_minus - score * score, 0.0) / n)
    return Interval(max(-1.0, score - half), min(1.0, score + half))
