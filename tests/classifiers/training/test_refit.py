"""Refitting the shipped heads with an authority's corrections: never worse than shipped.

Features are synthetic (a few informative dimensions + the 7 lexicon columns the classifier
reads back), so these tests run in milliseconds and exercise exactly the refit's arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest

from ecoute.domain import DETERMINANTS
from ecoute.classifiers.heads import LinearHead
from ecoute.classifiers.training.refit import flags, refit_determinant_head, refit_sentiment_head
from ecoute.classifiers.training.fit import OFF

DIM = 16
K = len(DETERMINANTS)


def features(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose first K dimensions say which determinants the item really has."""
    rng = np.random.default_rng(seed)
    truth = rng.random((n, K)) < 0.2
    x = rng.normal(0, 0.3, (n, DIM + K)).astype(np.float32)
    x[:, :K] += 2.0 * truth
    x[:, DIM:] = 0.0  # no lexicon hit: the head decides alone
    return x, truth.astype(np.float32)


def shipped_head(thresholds: list[float] | None = None) -> LinearHead:
    """A decent head: it reads the informative dimensions, with a little noise."""
    weight = np.zeros((K, DIM + K), dtype=np.float32)
    weight[np.arange(K), np.arange(K)] = 2.0
    return LinearHead(list(DETERMINANTS), weight, np.full(K, -2.0, np.float32), "sigmoid", 1.0,
                      thresholds or [0.5] * K, meta={"task": "determinants"})


def all_present(n: int, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """What officers typically give: "this item has these determinants", nothing else."""
    y = np.zeros((n, K), dtype=np.float32)
    known = np.zeros_like(y)
    for name in names:
        y[:, DETERMINANTS.index(name)] = 1.0
        known[:, DETERMINANTS.index(name)] = 1.0
    return y, known


CORRECTED = ["complaints_management", "responsiveness", "waiting_time"]


def test_four_corrections_do_not_tag_every_item_with_the_corrected_determinants() -> None:
    base = shipped_head()
    x, _ = features(4, seed=1)
    y, known = all_present(4, CORRECTED)
    anchors, _ = features(200, seed=2)
    refit = refit_determinant_head(base, x, y, known, anchors, min_corrections=8)
    assert refit.head is None
    assert refit.reason.startswith("no determinant has 8 corrections yet")
    assert "\n" not in refit.reason


def test_many_one_sided_corrections_are_anchored_to_the_shipped_head() -> None:
    base = shipped_head()
    x, _ = features(24, seed=3)  # corrected items whatever they really say
    y, known = all_present(24, CORRECTED)
    anchors, _ = features(200, seed=4)
    refit = refit_determinant_head(base, x, y, known, anchors, min_corrections=8)
    assert refit.head is not None, refit.reason
    # It still tells items apart: never "every item at 1.00".
    shares = flags(refit.head, anchors).mean(axis=0)
    before = flags(base, anchors).mean(axis=0)
    probs = refit.head.probabilities(anchors)
    for name in CORRECTED:
        k = DETERMINANTS.index(name)
        assert shares[k] <= before[k] + 0.05 and probs[:, k].min() < 0.1


def test_one_sided_corrections_with_nothing_to_check_against_are_refused() -> None:
    x, _ = features(24, seed=3)
    y, known = all_present(24, CORRECTED)
    refit = refit_determinant_head(shipped_head(), x, y, known, x[:0], min_corrections=8)
    assert refit.head is None and "no uncorrected item" in refit.reason


def test_determinants_without_enough_corrections_keep_the_shipped_weights() -> None:
    off = ("courtesy", "waiting_time")  # left to the lexicon by the shipped head
    base = shipped_head(thresholds=[OFF if name in off else 0.5 for name in DETERMINANTS])
    x, truth = features(40, seed=5)
    wt, cm = DETERMINANTS.index("waiting_time"), DETERMINANTS.index("courtesy")
    y = truth.copy()
    known = np.zeros_like(y)
    known[:, wt] = 1.0  # 40 corrections of waiting_time, both ways
    known[:3, cm] = 1.0  # 3 of courtesy: not enough
    anchors, _ = features(100, seed=6)
    refit = refit_determinant_head(base, x, y, known, anchors, min_corrections=8)
    assert refit.head is not None, refit.reason
    others = [k for k in range(K) if k != wt]
    assert np.array_equal(refit.head.weight[others], base.weight[others])
    assert np.array_equal(refit.head.bias[others], base.bias[others])
    assert refit.head.thresholds is not None and refit.head.thresholds[cm] == OFF
    assert refit.head.thresholds[wt] == 0.5  # corrected: the head may now say it
    assert refit.metrics["refitted"] == ["waiting_time"]
    assert refit.metrics["micro_f1_refit"] >= refit.metrics["micro_f1_shipped"]


def test_a_refit_that_scores_worse_on_the_labelled_file_is_refused() -> None:
    base = shipped_head()
    x, truth = features(40, seed=7)
    wt = DETERMINANTS.index("waiting_time")
    y = truth.copy()
    y[:, wt] = 1.0 - truth[:, wt]  # consistently wrong corrections
    known = np.zeros_like(y)
    known[:, wt] = 1.0
    check = features(120, seed=8)
    refit = refit_determinant_head(base, x, y, known, x[:0], min_corrections=8, check=check)
    assert refit.head is None
    assert refit.reason.startswith("refit refused: micro-F1")
    assert refit.metrics["micro_f1_refit"] < refit.metrics["micro_f1_shipped"]


def sentiment_head() -> LinearHead:
    weight = np.zeros((3, DIM + K), dtype=np.float32)
    weight[0, 0], weight[2, 1] = 1.0, 1.0
    return LinearHead(["negative", "neutral", "positive"], weight, np.zeros(3, np.float32))


@pytest.mark.parametrize("n", [3, 7])
def test_too_few_sentiment_corrections_keep_the_shipped_sentiment_head(n: int) -> None:
    x, _ = features(n, seed=9)
    refit = refit_sentiment_head(sentiment_head(), x, np.full(n, 2), x[:0], min_corrections=8)
    assert refit.head is None and "8 needed" in refit.reason


def test_sentiment_corrections_that_agree_with_a_signal_are_learnt() -> None:
    rng = np.random.default_rng(10)
    x = rng.normal(0, 1, (40, DIM + K)).astype(np.float32)
    y = np.where(x[:, 5] > 0, 2, 0)  # the authority's readers go by a dimension the head ignores
    anchors = rng.normal(0, 1, (50, DIM + K)).astype(np.float32)
    refit = refit_sentiment_head(sentiment_head(), x, y, anchors, min_corrections=8)
    assert refit.head is not None, refit.reason
    assert refit.metrics["accuracy_refit"] > refit.metrics["accuracy_shipped"]
