"""Honest figures for the determinant head: k-fold evaluation of the whole classifier.

Each fold's items are classified by a classifier whose determinant head (regularisation and
thresholds included) was trained on the other folds only; the predictions of all folds are
then scored together with :func:`ecoute.classifiers.training.evaluation.score`, exactly as
``ecoute evaluate`` would score them. No item is ever scored by a head that saw it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ecoute.domain import Prediction, DETERMINANTS
from ecoute.classifiers.e5.classifier import E5Classifier
from ecoute.classifiers.training.evaluation import read_labelled_csv, score
from ecoute.classifiers.training.fit import Log, determinant_matrix, train_determinants


def cross_validated_evaluation(
    classifier: E5Classifier, gold: Path, cache_dir: Path, *, folds: int = 5, seed: int = 0,
    log: Log = print,
) -> dict[str, Any]:
    """Metrics of ``classifier`` on ``gold`` with out-of-fold determinant heads."""
    items = read_labelled_csv(gold)
    texts = [it.text for it in items]
    x = determinant_matrix(classifier.encoder, texts, classifier.lexicon, classifier.prototypes,
                           cache_dir)
    y = np.array([[float(any(d == n for d, _ in it.determinants or ())) for n in DETERMINANTS]
                  for it in items], dtype=np.float32)
    order = np.random.default_rng(seed).permutation(len(items))
    predictions: list[Prediction | None] = [None] * len(items)
    shipped = classifier.determinant_head
    try:
        for f in range(folds):
            test = order[f::folds]
            train = np.setdiff1d(order, test)
            classifier.determinant_head = train_determinants(
                x[train], y[train], sources=f"fold {f + 1}/{folds}", log=lambda _: None)
            for i, p in zip(test, classifier.predict([texts[i] for i in test]), strict=True):
                predictions[i] = p
            log(f"fold {f + 1}/{folds} done")
    finally:
        classifier.determinant_head = shipped
    result = score(items, [p for p in predictions if p is not None])
    result["method"] = f"{folds}-fold cross-validation of the determinant head on {gold.name}"
    return result
