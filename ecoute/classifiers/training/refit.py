"""Refitting the shipped heads with an authority's corrections, without breaking them.

Corrections say little: an officer marks the determinants an item has (almost always
"present"), rarely what it does not have. Fitted alone, a head learns that every item has
them (four corrections once tagged every item of an authority with three determinants at
confidence 1.00). So a refit

* changes only determinants with at least ``min_corrections`` corrections, and keeps the
  shipped weights of the others;
* is anchored: on the authority's uncorrected items, and on what the corrections do not say,
  it is trained towards the shipped head's own probabilities;
* is checked before it is used: on corrections held out of the fit and on a labelled file if
  one is given, it must score at least as well as the shipped head, and it must not flag a
  determinant on many more of the authority's items than the shipped head does.

It returns a one-line reason when it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ecoute.classifiers.determinant_scoring import lexicon_part
from ecoute.classifiers.heads import LinearHead, fit_linear

#: Pull of an authority's corrections towards the shipped head.
CORRECTIONS_L2 = 1e-2
#: One corrected item in this many is held out of the fit to check it.
HOLD_OUT_EVERY = 4
#: The most a refit may raise the share of the authority's items flagged with a determinant.
MAX_SHARE_RISE = 0.25


@dataclass
class Refit:
    """A refitted head, or why there is none (``head`` is None and ``reason`` says why)."""

    head: LinearHead | None
    reason: str
    metrics: dict[str, Any] = field(default_factory=dict)


def flags(head: LinearHead, x: np.ndarray) -> np.ndarray:
    """What the classifier would tag: the head over its thresholds, or a lexicon hit."""
    if len(x) == 0:
        return np.zeros((0, len(head.labels)), dtype=bool)
    probs = head.probabilities(x)
    thresholds = np.asarray(head.thresholds or [0.5] * len(head.labels))
    return (probs >= thresholds) | lexicon_part(x)


def micro_f1(predicted: np.ndarray, truth: np.ndarray, known: np.ndarray) -> float:
    mask = known > 0
    truth_b = truth > 0.5
    tp = int((predicted & truth_b & mask).sum())
    fp = int((predicted & ~truth_b & mask).sum())
    fn = int((~predicted & truth_b & mask).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def refit_determinant_head(
    base: LinearHead,
    x: np.ndarray,
    y: np.ndarray,
    known: np.ndarray,
    anchors: np.ndarray,
    *,
    min_corrections: int,
    check: tuple[np.ndarray, np.ndarray] | None = None,
) -> Refit:
    """Refit ``base`` (a sigmoid head) on corrected items ``x`` whose labels ``y`` are known
    where ``known`` is 1; ``anchors`` are feature rows of the authority's uncorrected items;
    ``check`` an optional fully labelled set (features, labels)."""
    labels = base.labels
    counts = known.sum(axis=0)
    eligible = counts >= min_corrections
    if not eligible.any():
        most = int(np.argmax(counts))
        return Refit(None, f"no determinant has {min_corrections} corrections yet (most: "
                     f"{labels[most]} with {int(counts[most])}); the shipped head stays")
    if len(anchors) == 0 and check is None:
        # Corrections are one-sided ("it has X"): checked on them alone, a head tagging
        # every item with X would look perfect.
        return Refit(None, "refit refused: the authority has no uncorrected item to check "
                     "it against; give a labelled file with --gold")
    held = np.arange(len(x)) % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1
    train = ~held
    # What the corrections do not say, the shipped head does (soft targets, full weight).
    base_probs = base.probabilities(x[train]) if train.any() else np.zeros((0, len(labels)))
    anchor_probs = base.probabilities(anchors) if len(anchors) else np.zeros((0, len(labels)))
    corrected = known[train] * eligible
    fit_x = np.concatenate([x[train], anchors]) if len(anchors) else x[train]
    fit_y = np.concatenate([np.where(corrected > 0, y[train], base_probs), anchor_probs])
    weight = np.ones_like(fit_y)
    w, b = fit_linear(fit_x, fit_y.astype(np.float32), n_labels=len(labels),
                      activation="sigmoid", l2=CORRECTIONS_L2, sample_weight=weight,
                      prior=(base.weight, base.bias))
    # Determinants without enough corrections keep the shipped weights exactly.
    w[~eligible], b[~eligible] = base.weight[~eligible], base.bias[~eligible]
    thresholds = [0.5 if t > 1.0 and eligible[k] else t
                  for k, t in enumerate(base.thresholds or [0.5] * len(labels))]
    head = LinearHead(list(labels), w, b, "sigmoid", base.temperature, thresholds,
                      meta=dict(base.meta))
    return _check(base, head, x[held], y[held], known[held] * eligible, anchors, check,
                  eligible, counts)


def _check(
    base: LinearHead, head: LinearHead, x: np.ndarray, y: np.ndarray, known: np.ndarray,
    anchors: np.ndarray, check: tuple[np.ndarray, np.ndarray] | None, eligible: np.ndarray,
    counts: np.ndarray,
) -> Refit:
    labels = base.labels
    metrics: dict[str, Any] = {
        "refitted": [labels[k] for k in np.flatnonzero(eligible)],
        "corrections": {labels[k]: int(counts[k]) for k in range(len(labels)) if counts[k]},
    }
    if len(anchors):
        before, after = flags(base, anchors).mean(axis=0), flags(head, anchors).mean(axis=0)
        rise = after - before
        worst = int(np.argmax(rise))
        metrics["share_flagged"] = {labels[k]: [round(float(before[k]), 3),
                                                round(float(after[k]), 3)]
                                    for k in np.flatnonzero(eligible)}
        if rise[worst] > MAX_SHARE_RISE:
            return Refit(None, f"refit refused: it would tag {after[worst]:.0%} of the "
                         f"authority's items with {labels[worst]} (shipped head: "
                         f"{before[worst]:.0%}); correct items without it too", metrics)
    sets = [(x, y, known)]
    if check is not None:
        sets.append((check[0], check[1], np.ones_like(check[1])))
    if not any(k.any() for _, _, k in sets):
        return Refit(None, "refit refused: no held-out correction to check it on; add "
                     "corrections or give a labelled file with --gold", metrics)
    xs = np.concatenate([s[0] for s in sets])
    ys, ks = np.concatenate([s[1] for s in sets]), np.concatenate([s[2] for s in sets])
    base_f1, new_f1 = micro_f1(flags(base, xs), ys, ks), micro_f1(flags(head, xs), ys, ks)
    metrics.update(checked_cells=int(ks.sum()), micro_f1_shipped=round(base_f1, 4),
                   micro_f1_refit=round(new_f1, 4))
    if new_f1 < base_f1:
        return Refit(None, f"refit refused: micro-F1 {new_f1:.3f} on held-out corrections"
                     f"{' and the labelled file' if check is not None else ''}, below the "
                     f"shipped head's {base_f1:.3f}", metrics)
    return Refit(head, f"refitted {', '.join(metrics['refitted'])}: micro-F1 {new_f1:.3f} "
                 f"(shipped head {base_f1:.3f}) on {int(ks.sum())} checked label(s)", metrics)


def refit_sentiment_head(
    base: LinearHead, x: np.ndarray, y: np.ndarray, anchors: np.ndarray, *,
    min_corrections: int, name: str = "sentiment head",
) -> Refit:
    """Refit a sentiment head (softmax: the shared one, or the judgement head of feedback
    items) on items whose sentiment an officer gave (``y``: label indexes), anchored on the
    shipped head's probabilities on ``anchors``; ``name`` says which in the reasons."""
    if len(x) < min_corrections:
        return Refit(None, f"{len(x)} sentiment correction(s), {min_corrections} needed; the "
                     f"shipped {name} stays")
    held = np.arange(len(x)) % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1
    train = ~held
    # Anchors enter as hard labels weighted by the shipped head's confidence: fit_linear's
    # softmax takes label indexes.
    anchor_probs = base.probabilities(anchors) if len(anchors) else np.zeros((0, 3))
    fit_x = np.concatenate([x[train], anchors]) if len(anchors) else x[train]
    fit_y = np.concatenate([y[train], anchor_probs.argmax(axis=1)]).astype(np.int64)
    weight = np.concatenate([np.ones(int(train.sum())), anchor_probs.max(axis=1)])
    w, b = fit_linear(fit_x, fit_y, n_labels=len(base.labels), activation="softmax",
                      l2=CORRECTIONS_L2, sample_weight=weight, prior=(base.weight, base.bias))
    head = LinearHead(list(base.labels), w, b, "softmax", base.temperature, None,
                      meta=dict(base.meta))
    before = float((base.probabilities(x[held]).argmax(axis=1) == y[held]).mean())
    after = float((head.probabilities(x[held]).argmax(axis=1) == y[held]).mean())
    metrics = {"corrections": len(x), "held_out": int(held.sum()),
               "accuracy_shipped": round(before, 4), "accuracy_refit": round(after, 4)}
    if after < before:
        return Refit(None, f"{name} refit refused: accuracy {after:.3f} on held-out "
                     f"corrections, below the shipped head's {before:.3f}", metrics)
    return Refit(head, f"{name} refitted: accuracy {after:.3f} (shipped head "
                 f"{before:.3f}) on {int(held.sum())} held-out correction(s)", metrics)
