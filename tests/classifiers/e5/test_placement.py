"""Where a determinant found without a cue goes, and which polarity it takes."""

from __future__ import annotations


import numpy as np

from ecoute.classifiers.determinant_scoring import EXTRA_COLUMNS, Prototypes
from ecoute.classifiers.determinants import load_lexicon
from ecoute.classifiers.e5.classifier import SHARED, E5Classifier, SentimentHeads
from ecoute.classifiers.heads import LinearHead
from ecoute.classifiers.sentences import Segment
from ecoute.domain import DETERMINANTS

DIM = 4


def _classifier(head: LinearHead | None) -> E5Classifier:
    # Examples say "personalization" points along dimension 2.
    matrix = np.zeros((len(DETERMINANTS), DIM), np.float32)
    matrix[:, 3] = 1.0
    matrix[DETERMINANTS.index("personalization")] = [0, 0, 1, 0]
    prototypes = Prototypes(matrix=matrix, owner=np.arange(len(DETERMINANTS)), blocks=1)
    sentiment = LinearHead(["negative", "neutral", "positive"], np.zeros((3, DIM), np.float32),
                           np.zeros(3, np.float32))
    return E5Classifier(object(), SentimentHeads({SHARED: sentiment}), load_lexicon(),  # type: ignore[arg-type]
                        prototypes, determinant_head=head)


def _head() -> LinearHead:
    """Finds personalization along dimension 0, whatever the examples say."""
    weight = np.zeros((len(DETERMINANTS), DIM + EXTRA_COLUMNS), np.float32)
    weight[DETERMINANTS.index("personalization"), 0] = 10.0
    return LinearHead(list(DETERMINANTS), weight, np.full(len(DETERMINANTS), -5.0, np.float32),
                      "sigmoid", 1.0, [0.5] * len(DETERMINANTS))


SEGMENTS = [Segment(0, 20, "Nous sommes venus hier"), Segment(21, 40, "La dame a tout repris"),
            Segment(41, 60, "Le parc est joli")]
# Segment 1 is what the head reads as personalization; segment 2 is the closest to examples.
SEG_EMB = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0]], np.float32)
ITEM = np.array([1, 0, 0, 0], np.float32)


def test_a_determinant_without_a_cue_goes_to_the_segment_the_head_scores_highest() -> None:
    lean = np.array([-0.8, 0.6, -0.2])
    mentions = _classifier(_head())._determinants(ITEM, SEG_EMB, SEGMENTS, lean, "fr")
    assert [(m.determinant, m.start, m.polarity, m.provenance) for m in mentions] == [
        ("personalization", 21, "positive", "model")]


def test_without_a_head_the_examples_place_it() -> None:
    classifier = _classifier(None)
    similarity = classifier.prototypes.similarity(SEG_EMB)
    assert int(np.argmax(similarity[:, DETERMINANTS.index("personalization")])) == 2


def test_a_segment_keeps_its_own_polarity_inside_an_item_of_the_other_sign() -> None:
    """A positive segment of a negative item stays positive: the item's lean is not pooled
    into it (the polarity context is chosen by cross-validation and is 0)."""
    classifier = _classifier(_head())
    assert classifier.polarity_context == 0.0
    lean = np.array([-0.9, 0.3, -0.9])  # a negative story, one positive sentence
    [mention] = classifier._determinants(ITEM, SEG_EMB, SEGMENTS, lean, "fr")
    assert mention.polarity == "positive"


def _polarity_head(positive_along: int, determinant: str) -> LinearHead:
    """Says "positive" for segments along one dimension, and "negative" for ``determinant``
    whatever the segment (its own column)."""
    weight = np.zeros((2, DIM + len(DETERMINANTS)), np.float32)
    weight[1, positive_along] = 10.0
    weight[0, DIM + DETERMINANTS.index(determinant)] = 50.0
    return LinearHead(["negative", "positive"], weight, np.array([0.0, -5.0], np.float32))


def test_the_polarity_head_overrides_the_segments_sentiment() -> None:
    classifier = _classifier(_head())
    lean = np.array([-0.8, -0.6, -0.2])  # every segment reads negative
    classifier.polarity_head = _polarity_head(0, "courtesy")
    mentions = classifier._determinants(ITEM, SEG_EMB, SEGMENTS, lean, "fr")
    assert [(m.determinant, m.start, m.polarity) for m in mentions] == [
        ("personalization", 21, "positive")]
    # The determinant is an input: the same segment said about courtesy points the other way.
    classifier.polarity_head = _polarity_head(0, "personalization")
    mentions = classifier._determinants(ITEM, SEG_EMB, SEGMENTS, lean, "fr")
    assert [m.polarity for m in mentions] == ["negative"]


def test_polarity_leans_equal_the_head_on_each_row() -> None:
    from ecoute.classifiers.determinant_scoring import polarity_features, polarity_leans

    rng = np.random.default_rng(3)
    head = LinearHead(["negative", "positive"],
                      rng.normal(size=(2, DIM + len(DETERMINANTS))).astype(np.float32),
                      rng.normal(size=2).astype(np.float32), temperature=1.7)
    leans = polarity_leans(head, SEG_EMB)
    for k in range(len(DETERMINANTS)):
        logits = head.logits(polarity_features(SEG_EMB, k))
        np.testing.assert_allclose(leans[:, k], logits[:, 1] - logits[:, 0], rtol=1e-5,
                                   atol=1e-5)
