"""The judgement head: the sentiment of a feedback item (``ecoute train --gold``).

The sentiment heads learned what a feeling sounds like from tweets, a third of them neutral,
and review sentences. People who write to a service mostly judge it, and often by the facts
("the bank sent every statement to the notary itself", a complaint "handled in 8 days, with
a rebate"); a polite complaint reads neutral to a head trained on tweets. The labelled
feedback items say how their authors judged: a logistic regression learns it from the item
embedding, and the concluding rules (``conclusion``: a closing "but" clause, thanks and
resolution cues) apply to its probabilities as they did to the sentiment heads'. L2 and the
temperature are chosen by cross-validation on the items; the head is kept only when, out of
fold and with the rules, it is right more often (macro-F1) than the sentiment heads with the
same rules. Social posts are not trained on: they keep the sentiment heads
(``E5Classifier``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecoute.classifiers.conclusion import final_judgement
from ecoute.classifiers.e5.classifier import E5Classifier, judged
from ecoute.classifiers.heads import LinearHead, fit_linear, fit_temperature, macro_f1, softmax
from ecoute.classifiers.language import detect_languages
from ecoute.classifiers.sentences import split_segments
from ecoute.classifiers.training.embedding_cache import cached_encode
from ecoute.classifiers.training.evaluation import LabelledItem
from ecoute.classifiers.training.fit import L2_GRID, Log
from ecoute.domain import SENTIMENTS

LABELS = list(SENTIMENTS)
FOLDS = 5


@dataclass
class JudgementRows:
    """One row per labelled feedback item."""

    x: np.ndarray  # (n, dim): item embedding
    y: np.ndarray  # (n,): index in LABELS
    rules_say: np.ndarray  # (n,): what the sentiment heads and the concluding rules answer
    segments: list[list[str]]  # each item's segments, for the concluding rules
    segment_probs: list[np.ndarray]  # the sentiment heads on each item's segments

    def concluded(self, probs: np.ndarray) -> np.ndarray:
        """The label of each item once the concluding rules apply to ``probs``."""
        return _concluded(probs, self.segments, self.segment_probs)


def _concluded(probs: np.ndarray, segments: Sequence[list[str]],
               segment_probs: Sequence[np.ndarray]) -> np.ndarray:
    return np.array([int(final_judgement(p, segs, seg_probs).argmax()) for p, segs, seg_probs
                     in zip(probs, segments, segment_probs, strict=True)], dtype=np.int64)


def judgement_rows(
    classifier: E5Classifier, items: Sequence[LabelledItem], cache_dir: Path,
) -> JudgementRows:
    """The feedback items of ``items`` that carry a sentiment, embedded as the classifier
    embeds them, with what the classifier answers without a judgement head."""
    kept = [it for it in items if it.sentiment in LABELS and judged(it.channel)]
    if not kept:
        return JudgementRows(np.zeros((0, 0), np.float32), np.zeros(0, np.int64),
                             np.zeros(0, np.int64), [], [])
    texts = [it.text for it in kept]
    segments = [split_segments(t) for t in texts]
    encoded = cached_encode(classifier.encoder, texts,
                            [[(s.start, s.end) for s in segs] for segs in segments], cache_dir)
    langs = detect_languages(texts)
    item_probs = classifier.sentiment.probabilities(encoded.items, langs)
    segment_probs = [classifier.sentiment.probabilities(encoded.segments[i],
                                                        [langs[i]] * len(segs))
                     for i, segs in enumerate(segments)]
    texts_of = [[s.text for s in segs] for segs in segments]
    return JudgementRows(
        encoded.items.reshape(len(kept), -1),
        np.array([LABELS.index(it.sentiment or "") for it in kept], dtype=np.int64),
        _concluded(item_probs, texts_of, segment_probs), texts_of, segment_probs,
    )


def out_of_fold_logits(rows: JudgementRows, l2: float, folds: int = FOLDS) -> np.ndarray:
    """Logits of each item by a head trained on the other folds."""
    order = np.random.default_rng(0).permutation(len(rows.y))
    logits = np.zeros((len(rows.y), len(LABELS)), dtype=np.float64)
    for f in range(folds):
        test = order[f::folds]
        train = np.setdiff1d(order, test)
        w, b = fit_linear(rows.x[train], rows.y[train], n_labels=len(LABELS), l2=l2)
        logits[test] = rows.x[test] @ w.T + b
    return logits


def train_judgement(
    classifier: E5Classifier, items: Sequence[LabelledItem], cache_dir: Path, *,
    sources: str, log: Log = print,
) -> LinearHead | None:
    """The judgement head, or None when it does not beat the sentiment heads and their
    rules out of fold (or the feedback items are too few to tell)."""
    rows = judgement_rows(classifier, items, cache_dir)
    if len(rows.y) < 10 * FOLDS or len(set(rows.y.tolist())) < 2:
        log(f"judgement head: {len(rows.y)} labelled feedback items are too few (a `channel` "
            "column says which items are feedback), the sentiment heads keep judging feedback")
        return None
    baseline = macro_f1(rows.y, rows.rules_say, len(LABELS))
    best = (-1.0, 0.0, 1.0)
    for l2 in L2_GRID:
        logits = out_of_fold_logits(rows, l2)
        # The rules weigh probabilities, so the head is calibrated before they apply.
        temperature = fit_temperature(logits, rows.y)
        score = macro_f1(rows.y, rows.concluded(softmax(logits / temperature)), len(LABELS))
        log(f"judgement head, l2={l2:g}: cross-validated macro-F1 {score:.4f} with the "
            f"concluding rules (sentiment heads and rules {baseline:.4f})")
        if score > best[0]:
            best = (score, l2, temperature)
    score, l2, temperature = best
    if score <= baseline:
        log("judgement head not better than the sentiment heads and their rules: not kept")
        return None
    w, b = fit_linear(rows.x, rows.y, n_labels=len(LABELS), l2=l2)
    accuracy = float((softmax(rows.x @ w.T + b).argmax(axis=1) == rows.y).mean())
    return LinearHead(LABELS, w, b, "softmax", temperature, None, meta={
        "task": "judgement", "training_data": sources, "n_items": int(len(rows.y)),
        "l2": l2, "cv_macro_f1": round(score, 4), "rules_macro_f1": round(baseline, 4),
        "training_accuracy": round(accuracy, 4),
        "selection": f"l2 and temperature by {FOLDS}-fold cross-validation; kept because, "
        "with the concluding rules, it beats the sentiment heads with the same rules on the "
        "same items out of fold",
        "features": "item embedding", "channels": "every channel but social",
    })
