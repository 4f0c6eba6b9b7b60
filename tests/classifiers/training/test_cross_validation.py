"""The determinant head and its cue choices come from the training file; a scored file's
labels never change them."""

from __future__ import annotations

import csv
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from ecoute.classifiers.determinant_scoring import Prototypes
from ecoute.classifiers.determinants import load_lexicon
from ecoute.classifiers.e5.classifier import SHARED, E5Classifier, SentimentHeads
from ecoute.classifiers.heads import LinearHead
from ecoute.classifiers.training import cross_validation
from ecoute.domain import DETERMINANTS
from tests.helpers.stand_in_encoder import StandInEncoder
from tests.helpers.stand_in_encoder import one_thread  # noqa: F401 (a fixture, used by name)

pytestmark = pytest.mark.usefixtures("one_thread")
DIM = 8


def _vector(text: str) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    vector = rng.normal(size=DIM).astype(np.float32)
    # One direction carries "waiting": the head has something to learn.
    vector[0] = 3.0 if "wait" in text.lower() or "attente" in text.lower() else -3.0
    return vector


class HashEncoder(StandInEncoder):
    """A vector per text, one direction of which says "waiting"."""

    dim = DIM

    def vector(self, text: str) -> np.ndarray:
        return _vector(text)


TEXTS = [
    ("We had to wait for an hour at the desk.", "waiting_time:negative"),
    ("Agent très aimable au guichet.", "courtesy:positive"),
    ("The street lamp is broken again.", ""),
    ("Une heure d'attente, c'est trop.", "waiting_time:negative"),
    ("Staff were rude to my mother.", "courtesy:negative"),
    ("Nice park, thanks.", ""),
]


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "sentiment", "determinants"])
        for i, (text, dets) in enumerate(rows):
            writer.writerow([f"{text} ({i})", "negative", dets])


def _classifier(tmp_path: Path) -> E5Classifier:
    encoder = HashEncoder(tmp_path)
    lexicon = load_lexicon()
    prototypes = Prototypes(matrix=np.stack([_vector(d) for d in DETERMINANTS]),
                            owner=np.arange(len(DETERMINANTS)), blocks=1)
    rng = np.random.default_rng(0)
    sentiment = LinearHead(["negative", "neutral", "positive"],
                           rng.normal(size=(3, DIM)).astype(np.float32), np.zeros(3, np.float32))
    return E5Classifier(encoder, SentimentHeads({SHARED: sentiment}), lexicon,  # type: ignore[arg-type]
                        prototypes)


def _trained_on(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The texts each determinant head is trained on, in the order they are trained."""
    seen: list[set[str]] = []
    real = cross_validation.train_determinant_model

    def recording(encoder: object, texts: Sequence[str], *args: object, **kwargs: object) -> LinearHead:
        seen.append(set(texts))
        return real(encoder, texts, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cross_validation, "train_determinant_model", recording)
    return seen


def test_the_scored_files_labels_never_change_the_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    train, scored = tmp_path / "train.csv", tmp_path / "dev.csv"
    _write(train, TEXTS * 6)
    heads: list[LinearHead] = []
    real = cross_validation.train_determinant_model

    def recording(*args: object, **kwargs: object) -> LinearHead:
        head = real(*args, **kwargs)  # type: ignore[arg-type]
        heads.append(head)
        return head

    monkeypatch.setattr(cross_validation, "train_determinant_model", recording)
    classifier = _classifier(tmp_path)
    results = []
    for rows in (TEXTS, [(t, TEXTS[(i + 1) % len(TEXTS)][1]) for i, (t, _) in enumerate(TEXTS)]):
        _write(scored, rows)  # the second time, every label is another item's
        results.append(cross_validation.train_then_score(
            classifier, train, scored, tmp_path / "cache", log=lambda _: None))
    first, second = heads
    np.testing.assert_array_equal(first.weight, second.weight)
    assert first.thresholds == second.thresholds
    assert first.meta == second.meta
    assert results[0]["determinants"] != results[1]["determinants"]
    # The classifier is left as it was found.
    assert classifier.determinant_head is None and isinstance(classifier.encoder, HashEncoder)


def test_out_of_fold_items_are_scored_by_heads_that_never_saw_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    train = tmp_path / "train.csv"
    _write(train, TEXTS * 5)
    seen = _trained_on(monkeypatch)
    classifier = _classifier(tmp_path)
    predicted: list[set[str]] = []
    original = classifier.predict

    def predict(texts: Sequence[str], channels=None):  # type: ignore[no-untyped-def]
        predicted.append(set(texts))
        return original(texts, channels)

    monkeypatch.setattr(classifier, "predict", predict)
    result = cross_validation.cross_validated_evaluation(
        classifier, train, tmp_path / "cache", folds=5, log=lambda _: None, intervals=True)
    assert len(seen) == len(predicted) == 5
    for trained_on, scored in zip(seen, predicted, strict=True):
        assert not trained_on & scored
    assert result["n"] == 30 and "interval" in result["determinants"]


def test_added_items_train_every_fold_and_are_never_scored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ecoute.classifiers.training.evaluation import read_labelled_csv

    train, extra = tmp_path / "train.csv", tmp_path / "added.csv"
    _write(train, TEXTS * 5)
    _write(extra, [(f"{text} extra", dets) for text, dets in TEXTS])
    added = read_labelled_csv(extra)
    seen = _trained_on(monkeypatch)
    classifier = _classifier(tmp_path)
    items = read_labelled_csv(train)
    without = cross_validation.cross_validated_predictions(
        classifier, items, tmp_path / "cache", folds=2, log=lambda _: None)
    with_added = cross_validation.cross_validated_predictions(
        classifier, items, tmp_path / "cache", folds=2, log=lambda _: None, added=added)
    assert len(without) == len(with_added) == len(items)
    extra_texts = {it.text for it in added}
    assert len(seen) == 4
    assert all(not fold & extra_texts for fold in seen[:2])
    assert all(extra_texts <= fold for fold in seen[2:])
    # the same folds: the added items are the only difference in what each head saw
    assert [fold - extra_texts for fold in seen[2:]] == seen[:2]
