"""Wording heads are kept per language only where, out of fold, they improve the blend."""

from __future__ import annotations

import numpy as np

from ecoute.classifiers.training.wording_fit import BLEND_GRID, train_wording

MARKS = {0: ["😡", "nul"], 1: ["📋", "info"], 2: ["😀", "top"]}


def _rows(n: int, seed: int, *, marked: bool) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.array([i % 3 for i in range(n)])
    # Marked texts carry their label in a symbol or word the sentiment heads miss (one in
    # six carries another label's); unmarked texts carry nothing the wording could learn.
    texts = [f"{rng.choice(MARKS[(label + (1 if i % 6 == 0 else 0)) % 3])} guichet "
             f"{rng.integers(1000)}" if marked else f"guichet {rng.integers(10**6)}"
             for i, label in enumerate(y)]
    return texts, y


def _probs(y: np.ndarray, right: float, seed: int) -> np.ndarray:
    """Sentiment heads' out-of-fold probabilities, right about ``right`` of the time."""
    rng = np.random.default_rng(seed)
    guess = np.where(rng.random(len(y)) < right, y, rng.integers(0, 3, len(y)))
    probs = np.full((len(y), 3), 0.2)
    probs[np.arange(len(y)), guess] = 0.6
    return probs


def test_a_language_whose_wording_helps_keeps_a_head_and_others_do_not() -> None:
    fr_texts, fr_y = _rows(150, 0, marked=True)
    en_texts, en_y = _rows(150, 1, marked=False)
    folds = {lang: np.arange(150) % 5 for lang in ("fr", "en")}
    heads = train_wording({"fr": fr_texts, "en": en_texts}, {"fr": fr_y, "en": en_y}, folds,
                          {"fr": _probs(fr_y, 0.3, 2), "en": _probs(en_y, 0.8, 3)},
                          log=lambda _: None)
    assert set(heads) == {"fr"}
    head = heads["fr"]
    assert head.labels == ["negative", "neutral", "positive"]
    assert head.meta["blend"] in BLEND_GRID and head.meta["task"] == "wording"
    scores = head.meta["cv_macro_f1"]
    assert scores["blended"] > scores["sentiment heads"] + 0.2
    assert head.weight.dtype == np.float16  # stored in half precision


def test_no_head_when_the_wording_never_beats_the_sentiment_heads() -> None:
    texts, y = _rows(150, 4, marked=False)
    heads = train_wording({"en": texts}, {"en": y}, {"en": np.arange(150) % 5},
                          {"en": _probs(y, 0.9, 5)}, log=lambda _: None)
    assert heads == {}
