"""The sentiment heads of the default classifier (``ecoute train --xlmt``).

XLM-T tweets (train split) in eight languages, French review segments and the labelled
feedback items' segments; the regularisation, the per-language heads and the softmax
temperatures are chosen by cross-validation on the training data, and every validation part
is only scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecoute.classifiers.e5.classifier import SHARED, SentimentHeads
from ecoute.classifiers.e5.encoder import E5Encoder
from ecoute.classifiers.heads import LinearHead, fit_linear, fit_temperature, macro_f1, softmax
from ecoute.classifiers.char_ngrams import WORDING_PREFIX
from ecoute.classifiers.training.embedding_cache import cached_encode
from ecoute.classifiers.training.fit import (
    Log,
    SpanExamples,
    embed_in_chunks,
    read_xlmt,
)
from ecoute.classifiers.training.wording_fit import train_wording

SENTIMENT_L2_GRID = (3e-5, 1e-4, 3e-4, 1e-3)

#: Folds of the cross-validation that chooses the sentiment heads' settings.
SENTIMENT_FOLDS = 5
#: A language's segments among the items' segments count in the choice of its own head
#: from this many (fewer would decide by noise).
MIN_SEGMENTS_TO_JUDGE = 50


def _folds(groups: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Fold of each row; rows of one group (segments of one sentence) share a fold."""
    unique = np.unique(groups)
    shuffled = np.random.default_rng(seed).permutation(len(unique))
    fold_of = dict(zip(unique.tolist(), (shuffled % k).tolist(), strict=True))
    return np.array([fold_of[g] for g in groups.tolist()], dtype=np.int64)


def _out_of_fold_logits(x: np.ndarray, y: np.ndarray, folds: np.ndarray, l2: float) -> np.ndarray:
    out = np.zeros((len(x), 3), dtype=np.float32)
    for f in np.unique(folds):
        test = folds == f
        w, b = fit_linear(x[~test], y[~test], n_labels=3, l2=l2)
        out[test] = x[test] @ w.T + b
    return out


@dataclass
class _Domain:
    lang: str
    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray  # rows that must stay in one fold share a group
    val_x: np.ndarray
    val_y: np.ndarray
    # The language each training and validation row is classified in: ``lang``, except in a
    # domain of mixed languages (the items' segments).
    row_langs: np.ndarray
    val_langs: np.ndarray


def train_sentiment(
    encoder: E5Encoder, root: Path, cache_dir: Path, *, max_train: int | None = None,
    apc: SpanExamples | None = None, segments: SpanExamples | None = None,
    log: Log = print, folds: int = SENTIMENT_FOLDS,
) -> dict[str, LinearHead]:
    """A shared head and the per-language heads that help, chosen without the validation split.

    Everything is chosen by ``folds``-fold cross-validation on the training split: the L2
    strength of the shared head, whether each language's own head (averaged with the shared
    one) beats the shared head alone, and the temperatures (fitted on out-of-fold logits).
    The validation split is only scored, at the end, so the figures recorded in the heads are
    honest. ``apc`` adds aspect-level French review segments, pooled in their sentence as at
    classification time (a fifth of the sentences are kept aside as their validation), which
    teach the head that "an hour of waiting" is a complaint — tweets rarely do.
    ``segments`` adds the labelled feedback items' segments that hold a determinant's cue,
    labelled by its polarity (``item_segments``), pooled in their item likewise.
    The languages' wording heads (``wording_fit``) are returned under
    ``wording-<lang>`` keys.
    """
    data = read_xlmt(root, max_train=max_train)
    domains: dict[str, _Domain] = {}
    for lang, splits in data.items():
        log(f"embedding XLM-T {lang} ({sum(len(s.texts) for s in splits.values())} texts)")
        x = {split: embed_in_chunks(encoder, s.texts, cache_dir) for split, s in splits.items()}
        n_train, n_val = len(splits["train"].labels), len(splits["val"].labels)
        domains[lang] = _Domain(lang, x["train"], splits["train"].labels, np.arange(n_train),
                                x["val"], splits["val"].labels, np.full(n_train, lang),
                                np.full(n_val, lang))
    if apc is not None and apc.texts:
        log(f"embedding {len(apc.texts)} review sentences")
        domains["reviews-fr"] = _span_domain(encoder, "fr", apc, cache_dir)
    if segments is not None and segments.texts:
        log(f"embedding {len(segments.texts)} labelled items' segments")
        # They train the shared head only: as domains of their languages, they made per-
        # language heads that never answer "neutral" for a whole item (docs/classification.md).
        domains["segments"] = _span_domain(encoder, SHARED, segments, cache_dir)
    names = sorted(domains)
    x_train = np.concatenate([domains[d].x for d in names])
    y_train = np.concatenate([domains[d].y for d in names])
    # Group ids are made unique across domains before they are assigned to folds.
    groups = np.concatenate([domains[d].groups * len(names) + i for i, d in enumerate(names)])
    fold = _folds(groups, folds)
    domain_of = np.repeat(np.array(names), [len(domains[d].y) for d in names])
    rows = {d: domain_of == d for d in names}
    # Rows of mixed-language domains, by the language whose head would classify them.
    mixed_rows = np.concatenate([
        domains[d].row_langs if domains[d].lang == SHARED else np.full(len(domains[d].y), "")
        for d in names])

    def domain_f1(probs: np.ndarray, d: str) -> float:
        return macro_f1(y_train[rows[d]], probs[rows[d]].argmax(1), 3)

    labels = ["negative", "neutral", "positive"]
    best: tuple[float, float, np.ndarray] = (-1.0, 0.0, np.zeros(0))
    for l2 in SENTIMENT_L2_GRID:
        logits = _out_of_fold_logits(x_train, y_train, fold, l2)
        score = float(np.mean([domain_f1(logits, d) for d in names]))
        log(f"shared head, l2={l2:g}: cross-validated macro-F1 {score:.4f}")
        if score > best[0]:
            best = (score, l2, logits)
    _, l2, shared_logits = best
    temperature = fit_temperature(shared_logits, y_train)
    shared_probs = softmax(shared_logits / temperature)
    w, b = fit_linear(x_train, y_train, n_labels=3, l2=l2)
    heads = {SHARED: LinearHead(labels, w, b, "softmax", temperature)}
    cv_scores: dict[str, float] = {}
    oof_probs = shared_probs.copy()  # the chosen heads' out-of-fold probabilities
    for lang in sorted({domains[d].lang for d in names} - {SHARED}):
        own = [d for d in names if domains[d].lang == lang]
        idx = np.flatnonzero(np.isin(domain_of, own))
        local_logits = np.zeros_like(shared_logits)
        local_logits[idx] = _out_of_fold_logits(x_train[idx], y_train[idx], fold[idx], l2)
        local_t = fit_temperature(local_logits[idx], y_train[idx])
        mixed_probs = (shared_probs + softmax(local_logits / local_t)) / 2
        alone = {d: domain_f1(shared_probs, d) for d in own}
        mixed = {d: domain_f1(mixed_probs, d) for d in own}
        lw, lb = fit_linear(x_train[idx], y_train[idx], n_labels=3, l2=l2)
        # The language's head would also classify its segments in the items' segments,
        # which it never trains on: it must not make them worse.
        seg = np.flatnonzero(mixed_rows == lang)
        if len(seg) >= MIN_SEGMENTS_TO_JUDGE:
            local = softmax((x_train[seg] @ lw.T + lb) / local_t)
            y_seg = y_train[seg]
            alone[f"segments-{lang}"] = macro_f1(y_seg, shared_probs[seg].argmax(1), 3)
            mixed[f"segments-{lang}"] = macro_f1(
                y_seg, ((shared_probs[seg] + local) / 2).argmax(1), 3)
        keep = np.mean(list(mixed.values())) > np.mean(list(alone.values()))
        log(f"{lang}: cross-validated macro-F1 shared {np.mean(list(alone.values())):.4f}, "
            f"shared+{lang} {np.mean(list(mixed.values())):.4f}")
        if keep:
            heads[lang] = LinearHead(labels, lw, lb, "softmax", local_t)
            oof_probs[idx] = mixed_probs[idx]
        cv_scores.update({d: round(v, 4) for d, v in (mixed if keep else alone).items()})
    wording = train_wording(
        {lang: data[lang]["train"].texts for lang in data},
        {lang: domains[lang].y for lang in data}, {lang: fold[rows[lang]] for lang in data},
        {lang: oof_probs[rows[lang]] for lang in data}, log=log)
    ensemble = SentimentHeads(heads, wording)
    val_scores = {}
    for d in names:
        langs = domains[d].val_langs.tolist()
        # Tweets are whole texts, read as the classifier reads a social post (wording heads
        # blended in); the other domains are segments, which the heads alone read.
        probs = (ensemble.item_probabilities(domains[d].val_x, data[d]["val"].texts, langs)
                 if d in data else ensemble.probabilities(domains[d].val_x, langs))
        val_scores[d] = round(macro_f1(domains[d].val_y, probs.argmax(1), 3), 4)
    log("validation macro-F1 (never used to choose): " + ", ".join(
        f"{d} {v:.4f}" for d, v in val_scores.items()))
    sources = "XLM-T (cardiffnlp/xlm-t) sentiment train split, " + ", ".join(sorted(data))
    if max_train:
        sources += f", first {max_train} lines per language"
    if "reviews-fr" in domains:
        sources += "; SemEval-2016 Task 5 French restaurant reviews (train), aspect segments"
    if "segments" in domains:
        sources += ("; segments of the labelled feedback items holding a determinant's cue, "
                    "by its polarity (shared head)")
    meta = {
        "task": "sentiment", "training_data": sources,
        "selection": f"l2, per-language heads and temperatures by {folds}-fold "
        "cross-validation on the training data; the validation split is only scored",
        "l2": l2, "cv_macro_f1": cv_scores, "val_macro_f1": val_scores,
        "val_macro_f1_mean_xlmt": round(float(np.mean([val_scores[d] for d in data])), 4),
    }
    for lang, head in heads.items():
        head.meta = {**meta, "language": lang}
    for lang, head in wording.items():
        head.meta.update(training_data=f"XLM-T (cardiffnlp/xlm-t) sentiment train split, {lang}",
                         selection=f"l2, blend weight and use by {folds}-fold cross-validation "
                         "with the sentiment heads' folds; the validation split is only scored",
                         val_macro_f1_blended=val_scores[lang])
        heads[f"{WORDING_PREFIX}{lang}"] = head
    return heads


def _span_domain(
    encoder: E5Encoder, lang: str, examples: SpanExamples, cache_dir: Path
) -> _Domain:
    """Labelled segments pooled inside their text; a fifth of the texts kept aside as the
    domain's validation (only scored), all segments of a text in one cross-validation fold."""
    encoded = cached_encode(encoder, examples.texts, examples.spans, cache_dir)
    segs = np.concatenate(encoded.segments)
    owner = np.repeat(np.arange(len(examples.texts)), [len(sp) for sp in examples.spans])
    val = owner % 5 == 4
    langs = (np.array([examples.langs[i] or SHARED for i in owner.tolist()])
             if examples.langs is not None else np.full(len(owner), lang))
    return _Domain(lang, segs[~val], examples.labels[~val], owner[~val], segs[val],
                   examples.labels[val], langs[~val], langs[val])
