"""The polarity head: which way a determinant said in a segment points (``ecoute train --gold``).

Without it, a determinant takes the sentiment of the segment it is placed on, and the
sentiment heads learned what a feeling sounds like from tweets and review sentences: a
service praised by what it did ("the bank sent every statement to the notary itself") or
blamed in polite words reads the wrong way. The labelled items say which way each of their
determinants points; each determinant is placed on its segments exactly as the classifier
places it (cues, else the determinant head on each segment), and a logistic regression learns
the polarity from the segment's embedding and the determinant. The L2 strength is chosen by
cross-validation grouped by item; the head is kept only when it is right more often, out of
fold, than the segments' sentiment on the same mentions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecoute.classifiers.determinant_scoring import (
    placed_segments,
    polarity_features,
    segment_evidence,
    segment_features,
)
from ecoute.classifiers.e5.classifier import E5Classifier
from ecoute.classifiers.heads import LinearHead, fit_linear, softmax
from ecoute.classifiers.language import detect_languages
from ecoute.classifiers.sentences import split_segments
from ecoute.classifiers.training.embedding_cache import cached_encode
from ecoute.classifiers.training.evaluation import LabelledItem
from ecoute.classifiers.training.fit import L2_GRID, Log
from ecoute.domain import DETERMINANTS

LABELS = ["negative", "positive"]
FOLDS = 5


@dataclass
class PolarityRows:
    """One row per (item, determinant, placed segment) of the labelled items."""

    x: np.ndarray  # (n, dim + 7): segment embedding, which determinant
    y: np.ndarray  # (n,): 1 positive, 0 negative
    item: np.ndarray  # (n,): index of the item, to keep an item's rows in one fold
    sentiment_says: np.ndarray  # (n,): 1 where the segment's sentiment leans positive


def polarity_rows(
    classifier: E5Classifier, items: Sequence[LabelledItem], cache_dir: Path,
) -> PolarityRows:
    """Each labelled determinant of ``items`` on the segments ``classifier`` places it on
    (its lexicon choices and determinant head), with the sign the annotators gave."""
    labelled = [(i, it) for i, it in enumerate(items) if it.determinants]
    texts = [it.text for _, it in labelled]
    segments = [split_segments(t) for t in texts]
    encoded = cached_encode(classifier.encoder, texts,
                            [[(s.start, s.end) for s in segs] for segs in segments], cache_dir)
    langs = detect_languages(texts)
    head = classifier.determinant_head
    xs, ys, owners, says = [], [], [], []
    for n, (index, item) in enumerate(labelled):
        seg_emb = encoded.segments[n]
        if not len(seg_emb):
            continue
        evidence = segment_evidence(seg_emb, [s.text for s in segments[n]], classifier.lexicon,
                                    classifier.prototypes, langs[n])
        placement = (head.logits(segment_features(seg_emb, evidence)) if head is not None
                     else evidence.similarity)
        probs = classifier.sentiment.probabilities(seg_emb, [langs[n]] * len(seg_emb))
        for name, polarity in sorted(item.determinants or ()):
            k = DETERMINANTS.index(name)
            where = placed_segments(evidence, placement, k)
            xs.append(polarity_features(seg_emb[where], k))
            ys += [polarity == "positive"] * len(where)
            owners += [index] * len(where)
            says += [bool(probs[j, 2] > probs[j, 0]) for j in where]
    dim = encoded.items.shape[1] + len(DETERMINANTS) if len(texts) else len(DETERMINANTS)
    return PolarityRows(
        np.concatenate(xs) if xs else np.zeros((0, dim), np.float32),
        np.array(ys, dtype=np.int64), np.array(owners, dtype=np.int64),
        np.array(says, dtype=np.int64),
    )


def _fit(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, np.ndarray]:
    return fit_linear(x, y, n_labels=2, l2=l2)


def out_of_fold_accuracy(rows: PolarityRows, l2: float, folds: int = FOLDS) -> float:
    """Accuracy of heads trained on the other folds' items (an item's rows stay together)."""
    items = np.random.default_rng(0).permutation(np.unique(rows.item))
    right = 0
    for f in range(folds):
        test = np.isin(rows.item, items[f::folds])
        w, b = _fit(rows.x[~test], rows.y[~test], l2)
        right += int((softmax(rows.x[test] @ w.T + b).argmax(axis=1) == rows.y[test]).sum())
    return right / len(rows.y)


def train_polarity(
    classifier: E5Classifier, items: Sequence[LabelledItem], cache_dir: Path, *,
    sources: str, log: Log = print,
) -> LinearHead | None:
    """The polarity head, or None when it does not beat the segments' sentiment out of fold
    (or the items are too few to tell)."""
    rows = polarity_rows(classifier, items, cache_dir)
    if len(np.unique(rows.item)) < 5 * FOLDS or len(set(rows.y.tolist())) < 2:
        log(f"polarity head: {len(rows.y)} labelled mentions are too few, segments' "
            "sentiment kept")
        return None
    baseline = float((rows.sentiment_says == rows.y).mean())
    best = (-1.0, 0.0)
    for l2 in L2_GRID:
        accuracy = out_of_fold_accuracy(rows, l2)
        log(f"polarity head, l2={l2:g}: cross-validated accuracy {accuracy:.4f} "
            f"(segments' sentiment {baseline:.4f})")
        if accuracy > best[0]:
            best = (accuracy, l2)
    accuracy, l2 = best
    if accuracy <= baseline:
        log("polarity head not better than the segments' sentiment: not kept")
        return None
    w, b = _fit(rows.x, rows.y, l2)
    return LinearHead(LABELS, w, b, "softmax", 1.0, None, meta={
        "task": "polarity", "training_data": sources, "n_mentions": int(len(rows.y)),
        "n_items": int(len(np.unique(rows.item))), "l2": l2,
        "cv_accuracy": round(accuracy, 4), "segment_sentiment_accuracy": round(baseline, 4),
        "selection": f"l2 by {FOLDS}-fold cross-validation grouped by item; kept because it "
        "beats the segments' sentiment on the same mentions out of fold",
        "features": "segment embedding, then one column per determinant",
    })
