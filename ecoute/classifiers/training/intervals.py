"""Bootstrap 95 % intervals of the evaluation figures, so that one point is not mistaken
for progress.

Items are resampled with replacement (the unit the annotators labelled), and each figure is
recomputed from per-item counts on every resample: determinant micro-F1 and
determinant:polarity micro-F1 from each item's true/false positives and misses, sentiment
macro-F1 (and the mean of the languages' macro-F1, the XLM-T figure) from each item's gold
and predicted label. The interval is the 2.5th and 97.5th percentiles of the resampled
figures; the seed is fixed so that a report can be reproduced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ecoute.domain import SENTIMENTS

#: Resamples drawn; 1,000 keeps the interval ends stable to about 0.005.
RESAMPLES = 1000


def _micro_f1(counts: np.ndarray) -> np.ndarray:
    """F1 of summed (tp, fp, fn) rows: ``counts`` is (resamples, 3)."""
    tp, fp, fn = counts[:, 0], counts[:, 1], counts[:, 2]
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)


def _macro_f1(gold: np.ndarray, pred: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Macro-F1 of each resample, ``weights`` (resamples, n) counting how often each item was
    drawn; labels absent from both gold and prediction of a resample are left out, as in
    :func:`ecoute.classifiers.training.evaluation.sentiment_scores`."""
    scores, present = [], []
    for label in range(len(SENTIMENTS)):
        tp = weights @ ((gold == label) & (pred == label)).astype(float)
        fp = weights @ ((gold != label) & (pred == label)).astype(float)
        fn = weights @ ((gold == label) & (pred != label)).astype(float)
        denominator = 2 * tp + fp + fn
        scores.append(np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1e-12), 0.0))
        present.append(denominator > 0)
    stacked, mask = np.stack(scores), np.stack(present)
    return (stacked * mask).sum(axis=0) / np.maximum(mask.sum(axis=0), 1)


def _interval(values: np.ndarray) -> list[float]:
    low, high = np.percentile(values, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def _draws(n: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n): how many times each item is drawn in each resample."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(resamples, n))
    weights = np.zeros((resamples, n))
    np.add.at(weights, (np.repeat(np.arange(resamples), n), picks.ravel()), 1.0)
    return weights


def determinant_intervals(
    gold: Sequence[frozenset[tuple[str, str]]], predicted: Sequence[frozenset[tuple[str, str]]],
    *, resamples: int = RESAMPLES, seed: int = 0,
) -> dict[str, list[float]]:
    """95 % intervals of determinant micro-F1 and determinant:polarity micro-F1."""
    presence = np.zeros((len(gold), 3))
    polarity = np.zeros((len(gold), 3))
    for i, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        g_names, p_names = {d for d, _ in g}, {d for d, _ in p}
        presence[i] = (len(g_names & p_names), len(p_names - g_names), len(g_names - p_names))
        polarity[i] = (len(g & p), len(p - g), len(g - p))
    if not len(gold):
        return {}
    weights = _draws(len(gold), resamples, seed)
    return {
        "micro_f1": _interval(_micro_f1(weights @ presence)),
        "polarity_micro_f1": _interval(_micro_f1(weights @ polarity)),
    }


def sentiment_intervals(
    gold: Sequence[str], predicted: Sequence[str], langs: Sequence[str],
    *, resamples: int = RESAMPLES, seed: int = 0,
) -> dict[str, Any]:
    """95 % intervals of the pooled macro-F1, of each language's, and of their mean.

    Languages are resampled separately (stratified), so the mean of languages keeps its
    meaning: each language's own test set, resampled.
    """
    if not len(gold):
        return {}
    g = np.array([SENTIMENTS.index(x) for x in gold])
    p = np.array([SENTIMENTS.index(x) for x in predicted])
    lang_array = np.array(list(langs))
    per_lang: dict[str, np.ndarray] = {}
    pooled_weights = np.zeros((resamples, len(g)))
    for k, lang in enumerate(sorted(set(langs))):
        rows = np.flatnonzero(lang_array == lang)
        weights = _draws(len(rows), resamples, seed + k)
        per_lang[lang] = _macro_f1(g[rows], p[rows], weights)
        pooled_weights[:, rows] = weights
    return {
        "macro_f1": _interval(_macro_f1(g, p, pooled_weights)),
        "macro_f1_mean_of_langs": _interval(np.mean(list(per_lang.values()), axis=0)),
        "per_lang": {lang: _interval(values) for lang, values in per_lang.items()},
    }
