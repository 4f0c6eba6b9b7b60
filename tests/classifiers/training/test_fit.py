"""Determinant thresholds are chosen together with the lexicon's hits."""

from __future__ import annotations

import numpy as np

from ecoute.classifiers.training.fit import OFF, _best_thresholds


def test_determinant_thresholds_are_chosen_for_the_head_together_with_the_lexicon() -> None:
    y = np.array([[1, 1], [1, 0], [0, 1], [0, 0], [1, 0], [0, 0]], dtype=np.float32)
    probs = np.array([[0.9, 0.2], [0.3, 0.97], [0.2, 0.3], [0.35, 0.8], [0.8, 0.7], [0.2, 0.6]])
    # Alone, the head must accept item 3's false alarm on label 0 to catch item 1.
    alone, _ = _best_thresholds(probs, y)
    assert alone[0] <= 0.3
    # The lexicon already finds item 1 (label 0) and everything of label 1: the head is
    # then kept strict on label 0 and switched off on label 1, where it only adds errors.
    lexicon = np.array([[0, 1], [1, 0], [0, 1], [0, 0], [0, 0], [0, 0]], dtype=bool)
    both, f1s = _best_thresholds(probs, y, lexicon)
    assert 0.35 < both[0] <= 0.8 and both[1] == OFF
    assert f1s == [1.0, 1.0]
