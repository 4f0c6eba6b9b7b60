"""The judgement head is learned from the labelled feedback items' sentiment, and kept only
when it beats the sentiment heads with their concluding rules out of fold."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from ecoute.classifiers.e5.classifier import E5Classifier, judged
from ecoute.classifiers.training.evaluation import LabelledItem
from ecoute.classifiers.training.judgement_fit import judgement_rows, train_judgement
from tests.helpers.stand_in_encoder import StandInEncoder, stand_in_classifier
from tests.helpers.stand_in_encoder import one_thread  # noqa: F401 (a fixture, used by name)

pytestmark = pytest.mark.usefixtures("one_thread")
DIM = 6


def _vector(text: str) -> np.ndarray:
    vector = np.random.default_rng(zlib.crc32(text.encode())).normal(size=DIM).astype(np.float32)
    # Dimension 1 carries the author's judgement told by the facts; dimension 2 reads as a
    # sad story, which is all the sentiment head below sees.
    vector[1] = 3.0 if "everything" in text else -3.0
    vector[2] = -3.0
    return vector


class FactsEncoder(StandInEncoder):
    dim = DIM

    def vector(self, text: str) -> np.ndarray:
        return _vector(text)


def _classifier(tmp_path: Path, sentiment_sees_facts: bool) -> E5Classifier:
    weight = np.zeros((3, DIM), np.float32)
    weight[2, 2], weight[0, 2] = 2.0, -2.0  # the sad story: negative
    if sentiment_sees_facts:
        weight[2, 1], weight[0, 1] = 5.0, -5.0
    return stand_in_classifier(FactsEncoder(tmp_path), weight)


def _items(n: int, channel: str | None = "review") -> list[LabelledItem]:
    items = []
    for i in range(n):
        good = i % 2 == 0
        text = (f"After my father died the bank sent everything to the notary, file {i}"
                if good else f"After my father died the bank lost the papers, file {i}")
        items.append(LabelledItem(text, "en", "positive" if good else "negative",
                                  frozenset(), channel=channel))
    return items


def test_only_feedback_channels_are_judged() -> None:
    assert judged("review") and judged("complaint") and judged("service_request")
    assert not judged("social") and not judged(None)


def test_rows_are_the_feedback_items_with_a_sentiment(tmp_path: Path) -> None:
    items = [*_items(4), *_items(2, "social"), *_items(2, None),
             LabelledItem("No sentiment given", "en", None, frozenset(), channel="review")]
    rows = judgement_rows(_classifier(tmp_path, False), items, tmp_path / "cache")
    assert rows.y.tolist() == [2, 0, 2, 0] and rows.x.shape == (4, DIM)
    # The sentiment head reads every one of them as the sad story it tells.
    assert rows.rules_say.tolist() == [0, 0, 0, 0]


def test_a_head_that_reads_the_facts_is_kept_and_judges_feedback_only(tmp_path: Path) -> None:
    classifier = _classifier(tmp_path, sentiment_sees_facts=False)
    head = train_judgement(classifier, _items(60), tmp_path / "cache", sources="test",
                           log=lambda _: None)
    assert head is not None and head.labels == ["negative", "neutral", "positive"]
    assert head.meta["cv_macro_f1"] > head.meta["rules_macro_f1"] + 0.3
    assert head.meta["n_items"] == 60 and head.temperature > 0
    classifier.judgement_head = head
    text = "After my father died the bank sent everything to the notary, file 999"
    found = classifier.predict([text, text, text], ["complaint", "social", None])
    assert [p.sentiment.label for p in found] == ["positive", "negative", "negative"]


def test_no_head_when_the_sentiment_heads_are_as_good(tmp_path: Path) -> None:
    lines: list[str] = []
    head = train_judgement(_classifier(tmp_path, sentiment_sees_facts=True), _items(60),
                           tmp_path / "cache", sources="test", log=lines.append)
    assert head is None and "not better" in lines[-1]


def test_no_head_from_too_few_feedback_items(tmp_path: Path) -> None:
    lines: list[str] = []
    items = [*_items(20), *_items(60, "social")]
    assert train_judgement(_classifier(tmp_path, False), items, tmp_path / "cache",
                           sources="test", log=lines.append) is None
    assert "too few" in lines[-1]
