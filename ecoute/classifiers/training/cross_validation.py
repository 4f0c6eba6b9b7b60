"""Honest figures for the determinant head: k-fold evaluation of the whole classifier.

Each fold's items are classified by a classifier whose determinant head (regularisation,
thresholds and the lexicon's muted and weak cues included) was trained on the other folds
only; the predictions of all folds are then scored together with
:func:`ecoute.classifiers.training.evaluation.score`, exactly as ``ecoute evaluate`` would
score them. No item is ever scored by a head, or a cue choice, that saw it.
:func:`train_then_score` trains on one file and only scores another (the gold dev set).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ecoute.classifiers.determinants import Lexicon
from ecoute.classifiers.determinant_scoring import Prototypes
from ecoute.classifiers.e5.classifier import E5Classifier
from ecoute.classifiers.e5.encoder import E5Encoder
from ecoute.classifiers.heads import LinearHead
from ecoute.classifiers.language import detect_languages
from ecoute.classifiers.sentences import split_segments
from ecoute.classifiers.training.cue_precision import MIN_ITEMS, MUTE_BELOW, WEAK_BELOW
from ecoute.classifiers.training.embedding_cache import RememberedEncoder
from ecoute.classifiers.training.evaluation import (
    LabelledItem,
    predict_items,
    read_labelled_csv,
    score,
)
from ecoute.classifiers.training.fit import (
    Log,
    chosen_lexicon,
    determinant_matrix,
    train_determinants,
)
from ecoute.domain import DETERMINANTS, Prediction


def label_matrix(items: Sequence[LabelledItem]) -> np.ndarray:
    """(n, 7): 1 where an item is labelled with the determinant (any polarity)."""
    return np.array([[float(any(d == n for d, _ in it.determinants or ())) for n in DETERMINANTS]
                     for it in items], dtype=np.float32).reshape(len(items), len(DETERMINANTS))


def train_determinant_model(
    encoder: E5Encoder, texts: Sequence[str], y: np.ndarray, lexicon: Lexicon,
    prototypes: Prototypes, cache_dir: Path, *, langs: Sequence[str | None] | None = None,
    sources: str, log: Log = print,
) -> LinearHead:
    """The determinant head and the cue choices it is used with (in its metadata), both
    from these items only."""
    langs = detect_languages(texts) if langs is None else langs
    chosen = chosen_lexicon(lexicon.with_choices(), texts, langs, y)
    x = determinant_matrix(encoder, texts, chosen, prototypes, cache_dir, langs)
    head = train_determinants(x, y, sources=sources, log=log)
    head.meta.update(chosen.choices())
    head.meta["cue_selection"] = (
        f"cues seen in >= {MIN_ITEMS} items muted below {MUTE_BELOW:.0%} precision, weak "
        f"below {WEAK_BELOW:.0%}, measured on the training items")
    return head


def _use(classifier: E5Classifier, head: LinearHead | None, lexicon: Lexicon) -> None:
    classifier.determinant_head = head
    classifier.lexicon = lexicon.with_stored_choices(head.meta if head else {})


def _train_item_heads(classifier: E5Classifier, items: Sequence[LabelledItem],
                      cache_dir: Path) -> None:
    """The polarity and judgement heads of these items, the first placed by the determinant
    head just put in use (as ``ecoute train`` trains them): a figure never uses a head that
    saw its items."""
    from ecoute.classifiers.training.judgement_fit import train_judgement
    from ecoute.classifiers.training.polarity_fit import train_polarity

    classifier.polarity_head = train_polarity(classifier, items, cache_dir,
                                              sources="fold", log=lambda _: None)
    classifier.judgement_head = train_judgement(classifier, items, cache_dir,
                                                sources="fold", log=lambda _: None)


@contextmanager
def _heads_restored(classifier: E5Classifier, texts: Sequence[str],
                    cache_dir: Path) -> Iterator[E5Encoder]:
    """Within the block, ``classifier`` reads ``texts``' embeddings from disk (after the
    first run) and its determinant, polarity and judgement heads and lexicon may be swapped
    for a fold's; all are put back on leaving. Yields the real encoder."""
    saved = (classifier.determinant_head, classifier.lexicon, classifier.polarity_head,
             classifier.judgement_head, classifier.encoder)
    real = classifier.encoder
    spans = [[(s.start, s.end) for s in split_segments(t)] for t in texts]
    classifier.encoder = RememberedEncoder(real, texts, spans, cache_dir)  # type: ignore[assignment]
    try:
        yield real
    finally:
        (classifier.determinant_head, classifier.lexicon, classifier.polarity_head,
         classifier.judgement_head, classifier.encoder) = saved


def cross_validated_predictions(
    classifier: E5Classifier, items: Sequence[LabelledItem], cache_dir: Path, *,
    folds: int = 5, seed: int = 0, log: Log = print,
    added: Sequence[LabelledItem] = (),
) -> list[Prediction]:
    """Out-of-fold predictions of ``classifier`` on ``items``: each fold by determinant,
    polarity and judgement heads trained on the other folds, plus ``added`` items (never
    scored) when given."""
    everything = [*items, *added]
    texts = [it.text for it in everything]
    langs = detect_languages(texts)
    y = label_matrix(everything)
    order = np.random.default_rng(seed).permutation(len(items))
    extra = np.arange(len(items), len(everything))
    predictions: list[Prediction | None] = [None] * len(items)
    lexicon = classifier.lexicon
    with _heads_restored(classifier, texts, cache_dir):
        for f in range(folds):
            test = order[f::folds]
            train = np.concatenate([np.setdiff1d(order, test), extra])
            head = train_determinant_model(
                classifier.encoder, [texts[i] for i in train], y[train], lexicon,
                classifier.prototypes, cache_dir, langs=[langs[i] for i in train],
                sources=f"fold {f + 1}/{folds}", log=lambda _: None)
            _use(classifier, head, lexicon)
            _train_item_heads(classifier, [everything[i] for i in train], cache_dir)
            found = classifier.predict([texts[i] for i in test],
                                       [everything[i].channel for i in test])
            for i, p in zip(test, found, strict=True):
                predictions[i] = p
            log(f"fold {f + 1}/{folds} done")
    return [p for p in predictions if p is not None]


def cross_validated_evaluation(
    classifier: E5Classifier, gold: Path, cache_dir: Path, *, folds: int = 5, seed: int = 0,
    log: Log = print, intervals: bool = False,
) -> dict[str, Any]:
    """Metrics of ``classifier`` on ``gold`` with out-of-fold determinant heads."""
    items = read_labelled_csv(gold)
    predictions = cross_validated_predictions(classifier, items, cache_dir, folds=folds,
                                              seed=seed, log=log)
    result = score(items, predictions, intervals=intervals)
    result["method"] = (f"{folds}-fold cross-validation of the determinant head and cue "
                        f"choices on {gold.name}")
    return result


def train_then_score(
    classifier: E5Classifier, train: Path, file: Path, cache_dir: Path, *,
    log: Log = print, intervals: bool = False, batch_size: int = 32,
) -> dict[str, Any]:
    """Metrics on ``file`` of a determinant head trained on ``train`` alone: ``file``'s
    labels are read only to score."""
    items = [it for it in read_labelled_csv(train) if it.determinants is not None]
    texts = [it.text for it in items]
    scored = read_labelled_csv(file)
    lexicon = classifier.lexicon
    with _heads_restored(classifier, [it.text for it in scored], cache_dir) as real:
        head = train_determinant_model(
            real, texts, label_matrix(items), lexicon, classifier.prototypes,
            cache_dir, sources=f"{train.name} ({len(items)} items)", log=log)
        _use(classifier, head, lexicon)
        _train_item_heads(classifier, items, cache_dir)
        predictions = predict_items(classifier, scored, batch_size=batch_size)
    result = score(scored, predictions, intervals=intervals)
    result["method"] = f"determinant head and cue choices trained on {train.name} only"
    return result
