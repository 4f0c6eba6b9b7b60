"""Training data readers and the determinant head of the default classifier (``ecoute train``).

XLM-T splits and SemEval aspect segments are read here for the sentiment heads
(``sentiment_fit``). Determinants: labelled items (the training set, human corrections),
with the regularisation and one threshold per determinant chosen by k-fold
cross-validation; the figures reported are the out-of-fold ones, never scores on training
items. Embeddings are cached on disk, so retraining after a change takes seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ecoute.classifiers.determinant_scoring import Prototypes, item_features, lexicon_part
from ecoute.domain import DETERMINANTS
from ecoute.classifiers.determinants import Lexicon
from ecoute.classifiers.training.embedding_cache import cached_encode
from ecoute.classifiers.e5.encoder import E5Encoder
from ecoute.classifiers.heads import (
    LinearHead,
    fit_linear,
    sigmoid,
)
from ecoute.classifiers.language import detect_languages
from ecoute.classifiers.sentences import split_segments
from ecoute.classifiers.training.cue_precision import choose_cues, cue_precision
from ecoute.errors import ConfigError

#: XLM-T folder names and the language codes the classifier detects.
XLMT_LANGUAGES = {
    "arabic": "ar", "english": "en", "french": "fr", "german": "de", "hindi": "hi",
    "italian": "it", "portuguese": "pt", "spanish": "es",
}
L2_GRID = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3)
#: Lines embedded (and cached) together.
CHUNK = 900
Log = Callable[[str], None]


@dataclass
class Split:
    texts: list[str]
    labels: np.ndarray


def read_xlmt_split(folder: Path, split: str) -> Split:
    """One split of one XLM-T language folder: ``{split}_text.txt`` and ``{split}_labels.txt``,
    one example per line, labels 0 (negative), 1 (neutral), 2 (positive)."""
    text_file, label_file = folder / f"{split}_text.txt", folder / f"{split}_labels.txt"
    try:
        lines = text_file.read_text(encoding="utf-8").split("\n")
        values = label_file.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the XLM-T split {folder} ({split}): {exc}") from exc
    texts, labels = [], []
    for line, value in enumerate(values, start=1):
        if not value.strip():
            continue
        if value.strip() not in ("0", "1", "2") or line > len(lines):
            raise ConfigError(f"{label_file}, line {line}: expected 0, 1 or 2 with a text "
                              f"on the same line of {text_file.name}, got {value!r}")
        texts.append(lines[line - 1])
        labels.append(int(value))
    return Split(texts, np.array(labels, dtype=np.int64))


def read_xlmt(root: Path, *, max_train: int | None = None) -> dict[str, dict[str, Split]]:
    """``{lang: {"train": Split, "val": Split}}`` from an XLM-T sentiment folder."""
    data: dict[str, dict[str, Split]] = {}
    for folder, lang in XLMT_LANGUAGES.items():
        if not (root / folder).is_dir():
            continue
        data[lang] = {split: read_xlmt_split(root / folder, split) for split in ("train", "val")}
        if max_train:
            # Files are in balanced label blocks of three; the first lines stay balanced.
            train = data[lang]["train"]
            data[lang]["train"] = Split(train.texts[:max_train], train.labels[:max_train])
    if not data:
        raise ConfigError(
            f"no XLM-T language folder (french/, english/, ...) in {root}",
            hint="point --xlmt at the folder holding <language>/train_text.txt",
        )
    return data


def embed_in_chunks(
    encoder: E5Encoder, texts: Sequence[str], cache_dir: Path, chunk: int = CHUNK
) -> np.ndarray:
    """Item embeddings cached per block of lines, so using more lines re-embeds only those."""
    parts = [
        cached_encode(encoder, texts[start : start + chunk], None, cache_dir).items
        for start in range(0, len(texts), chunk)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32)


@dataclass
class SpanExamples:
    """Texts with one labelled segment span each (aspect-level sentiment in context)."""

    texts: list[str]
    spans: list[list[tuple[int, int]]]
    labels: np.ndarray
    langs: list[str | None] | None = None  # of each text, when the texts mix languages


def _norm(text: str) -> str:  # letters and digits only, to find a sentence again
    return "".join(ch for ch in text.lower() if ch.isalnum())


def read_apc(path: Path, *, exclude: Sequence[str] = ()) -> SpanExamples:
    """Segments of SemEval aspect sentences (PyABSA APC format) labelled by their aspects.

    The segment of each sentence holding an aspect target takes that target's polarity;
    segments whose targets disagree are left out, and so are sentences found in ``exclude``
    (an evaluation set must never be trained on).
    """
    polarity = {"negative": 0, "neutral": 1, "positive": 2}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the aspect sentiment file {path}: {exc}") from exc
    banned = [_norm(t) for t in exclude if len(_norm(t)) >= 20]
    by_segment: dict[tuple[str, int, int], set[int]] = {}
    for i in range(0, len(lines) - 2, 3):
        template, target, label = lines[i], lines[i + 1].strip(), lines[i + 2].strip().lower()
        if "$T$" not in template or label not in polarity:
            continue
        text = template.replace("$T$", target, 1).replace("$T$", target)
        norm = _norm(text)
        if any(b in norm or norm in b for b in banned):
            continue
        at = template.index("$T$")
        for seg in split_segments(text):
            if seg.start <= at < seg.end:
                by_segment.setdefault((text, seg.start, seg.end), set()).add(polarity[label])
    kept = [(key, labels.pop()) for key, labels in by_segment.items() if len(labels) == 1]
    by_text: dict[str, list[tuple[tuple[int, int], int]]] = {}
    for (text, start, end), value in kept:
        by_text.setdefault(text, []).append(((start, end), value))
    texts = list(by_text)
    return SpanExamples(
        texts=texts, spans=[[span for span, _ in by_text[t]] for t in texts],
        labels=np.array([label for t in texts for _, label in by_text[t]], dtype=np.int64),
    )


def item_segments(texts: Sequence[str]) -> tuple[list[list[str]], list[list[tuple[int, int]]]]:
    segments = [split_segments(t) for t in texts]
    return [[s.text for s in segs] for segs in segments], [[(s.start, s.end) for s in segs] for segs in segments]


def determinant_matrix(
    encoder: E5Encoder, texts: Sequence[str], lexicon: Lexicon, prototypes: Prototypes,
    cache_dir: Path, langs: Sequence[str | None] | None = None,
) -> np.ndarray:
    """The determinant head's input for ``texts``, built as the classifier builds it (the
    language detected, not the one a file says, gates the cues)."""
    seg_texts, spans = item_segments(texts)
    encoded = cached_encode(encoder, texts, spans, cache_dir)
    langs = detect_languages(texts) if langs is None else langs
    return np.stack([
        item_features(encoded.items[i], encoded.segments[i], seg_texts[i], lexicon, prototypes,
                      lang=langs[i])
        for i in range(len(texts))
    ])


def chosen_lexicon(
    lexicon: Lexicon, texts: Sequence[str], langs: Sequence[str | None], y: np.ndarray,
) -> Lexicon:
    """``lexicon`` with the cues muted or weakened by their precision on these items."""
    labels = [{DETERMINANTS[k] for k in np.flatnonzero(row)} for row in y]
    muted, weak = choose_cues(cue_precision(lexicon, texts, langs, labels))
    return lexicon.with_choices(muted, weak)


#: A threshold no probability reaches: the head adds nothing to the lexicon for that label.
OFF = 1.01


def _best_thresholds(
    probs: np.ndarray, y: np.ndarray, always: np.ndarray | None = None
) -> tuple[list[float], list[float]]:
    """One threshold per label maximising the F1 of ``always | probs >= threshold``.

    ``always`` holds what is found whatever the head says (the lexicon's hits, which the
    classifier always keeps), so each threshold is chosen for the combination actually used;
    :data:`OFF` is among the candidates, for labels where the head only adds false alarms.
    """
    always = np.zeros(y.shape, dtype=bool) if always is None else always
    thresholds, f1s = [], []
    for k in range(y.shape[1]):
        best_t, best_f1 = 0.5, -1.0
        for t in [*np.linspace(0.05, 0.95, 37), OFF]:
            pred = always[:, k] | (probs[:, k] >= t)
            tp = int((pred & (y[:, k] == 1)).sum())
            fp = int((pred & (y[:, k] == 0)).sum())
            fn = int((~pred & (y[:, k] == 1)).sum())
            f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
            if f1 > best_f1 + 1e-12:
                best_t, best_f1 = float(t), f1
        thresholds.append(round(best_t, 4))
        f1s.append(round(best_f1, 4))
    return thresholds, f1s


def cross_validated_probs(
    x: np.ndarray, y: np.ndarray, mask: np.ndarray, *, l2: float, folds: int = 5, seed: int = 0
) -> np.ndarray:
    """Out-of-fold probabilities of a one-vs-rest head (``mask``: which labels are known)."""
    order = np.random.default_rng(seed).permutation(len(x))
    out = np.zeros(y.shape, dtype=np.float32)
    for f in range(folds):
        test = order[f::folds]
        train = np.setdiff1d(order, test)
        w, b = fit_linear(x[train], y[train], n_labels=y.shape[1], activation="sigmoid", l2=l2,
                          sample_weight=mask[train])
        out[test] = sigmoid(x[test] @ w.T + b)
    return out


def train_determinants(
    x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None, *, sources: str,
    log: Log = print,
) -> LinearHead:
    """A one-vs-rest determinant head with l2 and thresholds chosen by cross-validation."""
    mask = np.ones_like(y, dtype=np.float32) if mask is None else mask
    hits = lexicon_part(x)
    best: tuple[float, float, Any] = (-1.0, 0.0, None)
    for l2 in L2_GRID:
        probs = cross_validated_probs(x, y, mask, l2=l2)
        thresholds, f1s = _best_thresholds(probs, y, hits)
        pred = hits | (probs >= np.array(thresholds))
        tp = int((pred & (y == 1)).sum())
        fp = int((pred & (y == 0)).sum())
        fn = int((~pred & (y == 1)).sum())
        micro = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        log(f"determinant head, l2={l2:g}: cross-validated micro-F1 with the lexicon {micro:.4f}")
        if micro > best[0]:
            best = (micro, l2, (thresholds, f1s))
    micro, l2, (thresholds, f1s) = best
    w, b = fit_linear(x, y, n_labels=y.shape[1], activation="sigmoid", l2=l2, sample_weight=mask)
    return LinearHead(
        list(DETERMINANTS), w, b, "sigmoid", 1.0, thresholds,
        meta={
            "task": "determinants", "training_data": sources, "n_items": len(x), "l2": l2,
            "selection": "l2 and per-determinant thresholds by 5-fold cross-validation, "
            "scoring the head together with the lexicon hits the classifier always keeps",
            "cv_micro_f1": round(micro, 4),
            "cv_f1": dict(zip(DETERMINANTS, f1s, strict=True)),
            "features": "item embedding, best segment similarity to examples, lexicon hits "
            "(cues that count on their own, then weak cues)",
        },
    )
