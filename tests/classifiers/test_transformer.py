"""The transformers loading path, exercised on a tiny model built from scratch."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ecoute.classifiers.base import Classifier, SentimentModel
from ecoute.classifiers.determinants import load_lexicon
from ecoute.classifiers.lexicon_tagger import LexiconSentenceClassifier
from ecoute.classifiers.transformer import TransformerSentiment, label_mapping
from ecoute.errors import ModelError


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path) -> TransformerSentiment:
    return TransformerSentiment(tiny_model_dir, batch_size=2)


def test_label_mapping_for_2_3_5_class_heads() -> None:
    assert label_mapping(["NEG", "POS"]) == [[1, 0, 0], [0, 0, 1]]
    assert label_mapping(["LABEL_0", "LABEL_1", "LABEL_2"]) == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    five = label_mapping(["1 star", "2 stars", "3 stars", "4 stars", "5 stars"])
    assert [row.index(1.0) for row in five] == [0, 0, 1, 2, 2]
    assert label_mapping(["positive", "negative"]) == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(ModelError, match="ECOUTE_MODEL_LABELS"):
        label_mapping(["a", "b", "c", "d"])


def test_scores_keep_input_order_across_length_sorted_batches(tiny: TransformerSentiment) -> None:
    texts = ["friendly staff", "attente interminable et personnel désagréable", "", "nice",
             "the office is on main street"]
    scores = tiny.score(texts)
    assert len(scores) == len(texts)
    assert [s.label for s in scores[:2]] == ["positive", "negative"]
    for text, score in zip(texts, scores, strict=True):
        alone = tiny.score([text])[0]
        assert (alone.negative, alone.neutral, alone.positive) == pytest.approx(
            (score.negative, score.neutral, score.positive), abs=1e-4)
        assert score.negative + score.neutral + score.positive == pytest.approx(1.0, abs=1e-5)
    assert isinstance(tiny, SentimentModel)


def test_long_texts_are_truncated(tiny_model_dir: Path) -> None:
    model = TransformerSentiment(tiny_model_dir, max_length=16)
    assert model.score(["friendly staff " * 500])[0].label == "positive"


def test_two_class_override_and_version_changes_with_the_weights(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    copy = shutil.copytree(tiny_model_dir, tmp_path / "copy")
    base = TransformerSentiment(copy)
    (copy / "config.json").write_text(
        (copy / "config.json").read_text().replace('"hidden_act"', '"torch_dtype": "float32", '
                                                   '"hidden_act"'), encoding="utf-8")
    assert TransformerSentiment(copy).version != base.version
    remapped = TransformerSentiment(copy, labels=["positive", "neutral", "negative"])
    assert remapped.score(["friendly staff"])[0].label == "negative"


def test_missing_folder_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="ECOUTE_MODEL_DIR"):
        TransformerSentiment(tmp_path)


def test_sentence_level_mixed_feedback(tiny: TransformerSentiment) -> None:
    classifier = LexiconSentenceClassifier(tiny, load_lexicon())
    assert isinstance(classifier, Classifier)
    text = "Friendly staff but 40 minutes of waiting."
    (prediction,) = classifier.predict([text])
    found = {(m.determinant, m.polarity) for m in prediction.determinants}
    assert found == {("courtesy", "positive"), ("waiting_time", "negative")}
    waiting = next(m for m in prediction.determinants if m.determinant == "waiting_time")
    assert text[waiting.start : waiting.end] == "but 40 minutes of waiting."
