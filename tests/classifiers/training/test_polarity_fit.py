"""The polarity head is learned from the labelled items' placed segments, and kept only when
it beats the segments' sentiment out of fold."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from ecoute.classifiers.determinant_scoring import polarity_leans
from ecoute.classifiers.e5.classifier import E5Classifier
from ecoute.classifiers.training.evaluation import LabelledItem
from ecoute.classifiers.training.polarity_fit import polarity_rows, train_polarity
from ecoute.domain import DETERMINANTS
from tests.helpers.stand_in_encoder import StandInEncoder, stand_in_classifier
from tests.helpers.stand_in_encoder import one_thread  # noqa: F401 (a fixture, used by name)

pytestmark = pytest.mark.usefixtures("one_thread")
DIM = 6


def _vector(text: str) -> np.ndarray:
    vector = np.random.default_rng(zlib.crc32(text.encode())).normal(size=DIM).astype(np.float32)
    # Dimension 1 carries praise told by the facts: the sentiment head below cannot see it.
    vector[1] = 3.0 if "sent everything" in text else -3.0
    return vector


class FactsEncoder(StandInEncoder):
    dim = DIM

    def vector(self, text: str) -> np.ndarray:
        return _vector(text)


def _classifier(tmp_path: Path, sentiment_sees_facts: bool) -> E5Classifier:
    weight = np.zeros((3, DIM), np.float32)
    if sentiment_sees_facts:
        weight[2, 1], weight[0, 1] = 5.0, -5.0
    return stand_in_classifier(FactsEncoder(tmp_path), weight)


def _items(n: int) -> list[LabelledItem]:
    items = []
    for i in range(n):
        good = i % 2 == 0
        text = (f"The desk sent everything to the notary, file {i}" if good
                else f"The desk lost the papers of file {i}")
        items.append(LabelledItem(text, "en", "positive" if good else "negative",
                                  frozenset({("transfer_efficiency",
                                              "positive" if good else "negative")})))
    return items


def test_rows_follow_the_labels_and_the_placement(tmp_path: Path) -> None:
    items = [*_items(4), LabelledItem("No determinant here", "en", "neutral", frozenset())]
    rows = polarity_rows(_classifier(tmp_path, False), items, tmp_path / "cache")
    assert rows.y.tolist() == [1, 0, 1, 0] and rows.item.tolist() == [0, 1, 2, 3]
    k = DETERMINANTS.index("transfer_efficiency")
    assert rows.x.shape == (4, DIM + len(DETERMINANTS)) and (rows.x[:, DIM + k] == 1).all()


def test_a_head_that_reads_the_facts_is_kept(tmp_path: Path) -> None:
    classifier = _classifier(tmp_path, sentiment_sees_facts=False)
    lines: list[str] = []
    head = train_polarity(classifier, _items(40), tmp_path / "cache", sources="test",
                          log=lines.append)
    assert head is not None and head.labels == ["negative", "positive"]
    assert head.meta["cv_accuracy"] > head.meta["segment_sentiment_accuracy"] + 0.3
    # Unseen segments: praise by the facts points up, the other way down.
    segments = np.stack([_vector("the desk sent everything to the notary, file 99"),
                         _vector("the desk lost the papers of file 99")])
    leans = polarity_leans(head, segments)[:, DETERMINANTS.index("transfer_efficiency")]
    assert leans[0] > 0 > leans[1]


def test_no_head_when_the_segments_sentiment_is_as_good(tmp_path: Path) -> None:
    lines: list[str] = []
    head = train_polarity(_classifier(tmp_path, sentiment_sees_facts=True), _items(40),
                          tmp_path / "cache", sources="test", log=lines.append)
    assert head is None and "not better" in lines[-1]


def test_no_head_from_too_few_items(tmp_path: Path) -> None:
    lines: list[str] = []
    assert train_polarity(_classifier(tmp_path, False), _items(10), tmp_path / "cache",
                          sources="test", log=lines.append) is None
    assert "too few" in lines[-1]
