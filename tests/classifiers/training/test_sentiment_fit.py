"""Sentiment heads are chosen by cross-validation on the training split, never on validation."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from ecoute.classifiers.e5.classifier import SHARED
from ecoute.classifiers.training.fit import SpanExamples
from ecoute.classifiers.training.sentiment_fit import train_sentiment
from tests.helpers.stand_in_encoder import StandInEncoder

WORDS = {0: ["awful", "rude", "slow"], 1: ["open", "monday", "form"], 2: ["great", "kind", "quick"]}


class WordEncoder(StandInEncoder):
    """One dimension per sentiment word, plus text noise."""

    dim = 12

    def vector(self, text: str) -> np.ndarray:
        vocab = [w for label in sorted(WORDS) for w in WORDS[label]]
        rng = np.random.default_rng(zlib.crc32(text.encode()))
        counts = [text.split().count(w) for w in vocab]
        return np.concatenate([counts, rng.normal(size=self.dim - len(vocab))])


def _split(folder: Path, name: str, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = [i % 3 for i in range(n)]
    # One text in five carries a word of another label: the task is not trivial.
    texts = [f"{rng.choice(WORDS[(y + (1 if i % 5 == 0 else 0)) % 3])} service {i}"
             for i, y in enumerate(labels)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}_text.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    (folder / f"{name}_labels.txt").write_text("\n".join(map(str, labels)) + "\n",
                                               encoding="utf-8")


def test_validation_labels_do_not_change_what_is_trained(tmp_path: Path) -> None:
    root = tmp_path / "xlmt"
    for k, lang in enumerate(("french", "english")):
        _split(root / lang, "train", 90, seed=k)
        _split(root / lang, "val", 30, seed=10 + k)
    encoder = WordEncoder(tmp_path)
    heads = train_sentiment(encoder, root, tmp_path / "cache", log=lambda _: None)  # type: ignore[arg-type]
    shared = heads[SHARED]
    assert "cross-validation" in shared.meta["selection"]
    assert set(shared.meta["cv_macro_f1"]) == {"en", "fr"}
    assert shared.meta["val_macro_f1"]["fr"] > 0.7
    assert 0.25 < shared.temperature < 4.0

    # Scrambled validation labels: the same heads, only the reported figures change.
    for lang in ("french", "english"):
        labels = (root / lang / "val_labels.txt").read_text().split()
        (root / lang / "val_labels.txt").write_text("\n".join(labels[1:] + labels[:1]) + "\n")
    again = train_sentiment(encoder, root, tmp_path / "cache", log=lambda _: None)  # type: ignore[arg-type]
    assert set(again) == set(heads)
    for lang, head in heads.items():
        np.testing.assert_array_equal(again[lang].weight, head.weight)
        assert again[lang].temperature == head.temperature
    assert again[SHARED].meta["cv_macro_f1"] == shared.meta["cv_macro_f1"]
    assert again[SHARED].meta["val_macro_f1"] != shared.meta["val_macro_f1"]


def test_labelled_segments_train_the_shared_head_only(tmp_path: Path) -> None:
    root = tmp_path / "xlmt"
    _split(root / "english", "train", 90, seed=0)
    _split(root / "english", "val", 30, seed=10)
    rng = np.random.default_rng(3)

    def examples(n: int) -> SpanExamples:
        texts, spans, labels = [], [], []
        for i in range(n):
            label = (0, 2)[i % 2]
            first = f"{rng.choice(WORDS[label])} desk {i}"
            texts.append(f"{first} and {rng.choice(WORDS[2 - label])} hall")
            spans.append([(0, len(first))])
            labels.append(label)
        return SpanExamples(texts, spans, np.array(labels, dtype=np.int64),
                            langs=["en" if i % 2 else "nl" for i in range(n)])

    heads = train_sentiment(WordEncoder(tmp_path), root, tmp_path / "cache",  # type: ignore[arg-type]
                            segments=examples(240), log=lambda _: None)
    assert set(heads) <= {SHARED, "en"}  # no head is made for Dutch, which has no tweets
    scores = heads[SHARED].meta["val_macro_f1"]
    # The segment, not its whole text (which holds words of both signs), is what is learnt.
    assert scores["segments"] > 0.8
    # The English head is judged on the English segments too, which it would classify.
    assert "segments-en" in heads[SHARED].meta["cv_macro_f1"]
    assert "segments-nl" not in heads[SHARED].meta["cv_macro_f1"]
    assert "labelled feedback items" in heads[SHARED].meta["training_data"]


def test_wording_heads_come_with_the_heads_and_their_blend_is_what_validation_scores(
    tmp_path: Path,
) -> None:
    root = tmp_path / "xlmt"
    marks = {0: "😡", 1: "📋", 2: "😀"}
    for name, n, seed in (("train", 120, 0), ("val", 45, 1)):
        rng = np.random.default_rng(seed)
        labels = [i % 3 for i in range(n)]
        # The label is in a symbol the stand-in encoder does not see, its words are noise.
        texts = [f"{marks[y]} {rng.choice(WORDS[int(rng.integers(3))])} service {i}"
                 for i, y in enumerate(labels)]
        (root / "french").mkdir(parents=True, exist_ok=True)
        (root / "french" / f"{name}_text.txt").write_text("\n".join(texts) + "\n")
        (root / "french" / f"{name}_labels.txt").write_text("\n".join(map(str, labels)) + "\n")
    heads = train_sentiment(WordEncoder(tmp_path), root, tmp_path / "cache",  # type: ignore[arg-type]
                            log=lambda _: None)
    wording = heads["wording-fr"]
    assert wording.meta["language"] == "fr" and "XLM-T" in wording.meta["training_data"]
    # The validation figure of French is the blend's, as the classifier reads a tweet.
    assert heads[SHARED].meta["val_macro_f1"]["fr"] == wording.meta["val_macro_f1_blended"]
    assert wording.meta["val_macro_f1_blended"] > 0.8
