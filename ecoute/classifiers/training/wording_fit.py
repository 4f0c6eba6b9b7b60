"""The wording heads: one character n-gram head per language, blended with the sentiment heads.

Each language's head is a logistic regression on its training tweets' hashed character
n-grams (``ecoute.classifiers.char_ngrams``). Its L2 strength and the weight of its
probabilities in the blend with the sentiment heads are chosen together, by the same folds
as the sentiment heads: out-of-fold wording probabilities are blended with the sentiment
heads' out-of-fold probabilities, and a language keeps its wording head only when the
blend beats the sentiment heads alone on its tweets. The validation split plays no part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ecoute.classifiers.char_ngrams import BITS, LONGEST, SHORTEST, SparseRows, char_ngrams
from ecoute.classifiers.e5.classifier import blend
from ecoute.classifiers.heads import LinearHead, fit_linear, fit_temperature, macro_f1, softmax
from ecoute.classifiers.training.fit import Log

WORDING_L2_GRID = (3e-5, 1e-4, 3e-4)
#: Weight of the wording head's probabilities in the blend (the sentiment heads get the rest).
BLEND_GRID = (0.1, 0.2, 0.3, 0.4, 0.5)


def _out_of_fold(x: SparseRows, y: np.ndarray, folds: np.ndarray, l2: float) -> np.ndarray:
    logits = np.zeros((len(y), 3), dtype=np.float32)
    for f in np.unique(folds):
        test = folds == f
        w, b = fit_linear(x.take(~test), y[~test], n_labels=3, l2=l2)
        logits[test] = x.take(test).matmul_t(w) + b
    return logits


def train_wording(
    texts: Mapping[str, Sequence[str]], labels: Mapping[str, np.ndarray],
    folds: Mapping[str, np.ndarray], sentiment_oof: Mapping[str, np.ndarray], *,
    log: Log = print,
) -> dict[str, LinearHead]:
    """``{lang: wording head}`` for the languages whose blend beats the sentiment heads out
    of fold; ``sentiment_oof`` are the sentiment heads' out-of-fold probabilities of the same
    rows, ``folds`` the fold of each row."""
    langs = sorted(texts)
    features = {lang: char_ngrams(texts[lang]) for lang in langs}
    alone = {lang: macro_f1(labels[lang], sentiment_oof[lang].argmax(1), 3) for lang in langs}
    oof: dict[float, dict[str, tuple[np.ndarray, float]]] = {}
    best: tuple[float, float, float] = (float(np.mean(list(alone.values()))), 0.0, 0.0)
    log(f"sentiment heads alone: cross-validated mean macro-F1 {best[0]:.4f}")
    for l2 in WORDING_L2_GRID:
        oof[l2] = {}
        for lang in langs:
            logits = _out_of_fold(features[lang], labels[lang], folds[lang], l2)
            t = fit_temperature(logits, labels[lang])
            oof[l2][lang] = (softmax(logits / t), t)
        for weight in BLEND_GRID:
            # A language without a gain keeps the sentiment heads alone.
            score = float(np.mean([max(alone[lang], macro_f1(labels[lang], blend(
                sentiment_oof[lang], oof[l2][lang][0], weight).argmax(1), 3)) for lang in langs]))
            log(f"wording heads, l2={l2:g}, blend {weight:.1f}: cross-validated mean "
                f"macro-F1 {score:.4f}")
            if score > best[0]:
                best = (score, l2, weight)
    _, l2, weight = best
    heads: dict[str, LinearHead] = {}
    if not weight:
        log("wording heads: none beats the sentiment heads alone out of fold")
        return heads
    for lang in langs:
        probs, t = oof[l2][lang]
        mixed = macro_f1(labels[lang], blend(sentiment_oof[lang], probs, weight).argmax(1), 3)
        log(f"{lang}: cross-validated macro-F1 sentiment heads {alone[lang]:.4f}, with its "
            f"wording head {mixed:.4f}")
        if mixed <= alone[lang]:
            continue
        w, b = fit_linear(features[lang], labels[lang], n_labels=3, l2=l2)
        heads[lang] = LinearHead(
            ["negative", "neutral", "positive"], w.astype(np.float16), b, "softmax", t,
            meta={"task": "wording", "language": lang, "blend": weight, "l2": l2,
                  "features": f"character {SHORTEST}- to {LONGEST}-grams inside words, "
                              f"CRC-32 hashed into 2^{BITS} columns, 1+log counts, unit rows",
                  "cv_macro_f1": {"sentiment heads": round(alone[lang], 4),
                                  "blended": round(mixed, 4)}})
    return heads
