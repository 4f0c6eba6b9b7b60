"""What the encoder is tuned on: labelled rows over the frozen bottom's token states.

Three sources, as ``ecoute train`` reads them: XLM-T training tweets (sentiment of the whole
tweet), SemEval-2016 French review sentences (sentiment of an aspect's segment, pooled inside
its sentence) and the labelled feedback items (their sentiment and which determinants they
talk about). A part of each is held out — never trained on — to choose the number of epochs
and to tell whether tuning helps at all; the XLM-T validation split and any evaluation file
(``exclude``) stay out altogether.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ecoute.classifiers.training.evaluation import read_labelled_csv
from ecoute.classifiers.training.fit import read_apc, read_xlmt
from ecoute.classifiers.training.frozen_bottom import TokenStates
from ecoute.domain import DETERMINANTS

SENTIMENTS = ("negative", "neutral", "positive")
#: Share of each source held out to choose epochs and judge the tuning, by source kind.
HELD_OUT = {"tweets": 0.10, "reviews": 0.10, "items": 0.20}
NO_LABEL = -1


@dataclass
class Rows:
    """Labelled rows; row ``i`` pools text ``text[i]`` of the states, over ``span[i]``
    (None: the whole text)."""

    text: np.ndarray  # (n,) index into the token states
    span: list[tuple[int, int] | None]
    sentiment: np.ndarray  # (n,) 0-2 or NO_LABEL
    determinants: np.ndarray  # (n, 7) 0/1
    has_determinants: np.ndarray  # (n,) bool
    domain: np.ndarray  # (n,) "fr", "de"... for tweets, "reviews-fr", "items"
    held_out: np.ndarray  # (n,) bool

    def take(self, keep: np.ndarray) -> Rows:
        idx = np.flatnonzero(keep)
        return Rows(
            self.text[idx],
            [self.span[i] for i in idx],
            self.sentiment[idx],
            self.determinants[idx],
            self.has_determinants[idx],
            self.domain[idx],
            self.held_out[idx],
        )


@dataclass
class _Row:
    chunk: str
    i: int  # text in its chunk
    span: tuple[int, int] | None
    sentiment: int
    domain: str
    held_out: bool
    determinants: list[float] | None = None


@dataclass
class Sources:
    """The texts of each source, in the order their token states are stored."""

    chunks: list[tuple[str, list[str]]] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)


def _held_out(n: int, share: float, seed: int) -> np.ndarray:
    order = np.random.default_rng(seed).permutation(n)
    out = np.zeros(n, dtype=bool)
    out[order[: int(round(n * share))]] = True
    return out


def read_sources(
    xlmt: Path | None,
    apc: Path | None,
    items: Path | None,
    exclude: Path | None,
    *,
    max_train: int | None = None,
    seed: int = 0,
) -> Sources:
    """The texts to run through the frozen bottom, chunk by chunk, and their rows."""
    banned_texts = [it.text for it in read_labelled_csv(exclude)] if exclude else []
    banned = {t.strip() for t in banned_texts}
    src = Sources()
    held_items: list[str] = []
    if items is not None:
        labelled = [
            it
            for it in read_labelled_csv(items)
            if it.determinants is not None and it.text.strip() not in banned
        ]
        held = _held_out(len(labelled), HELD_OUT["items"], seed)
        src.chunks.append(("items", [it.text for it in labelled]))
        for i, it in enumerate(labelled):
            names = {name for name, _ in it.determinants or ()}
            sentiment = SENTIMENTS.index(it.sentiment) if it.sentiment in SENTIMENTS else NO_LABEL
            src.rows.append(
                _Row(
                    "items",
                    i,
                    None,
                    sentiment,
                    "items",
                    bool(held[i]),
                    [float(d in names) for d in DETERMINANTS],
                )
            )
        held_items = [it.text for i, it in enumerate(labelled) if held[i]]
    if apc is not None:
        reviews = read_apc(apc, exclude=banned_texts)
        # A held-out item must not come back as a review sentence to train on.
        allowed = (
            set(read_apc(apc, exclude=banned_texts + held_items).texts)
            if items is not None
            else set(reviews.texts)
        )
        held = _held_out(len(reviews.texts), HELD_OUT["reviews"], seed + 1)
        src.chunks.append(("reviews", reviews.texts))
        labels = iter(reviews.labels.tolist())
        for i, spans in enumerate(reviews.spans):
            for span in spans:
                label = next(labels)
                if reviews.texts[i] in allowed:
                    src.rows.append(_Row("reviews", i, span, label, "reviews-fr", bool(held[i])))
    if xlmt is not None:
        for lang, splits in read_xlmt(xlmt, max_train=max_train).items():
            train = splits["train"]
            held = _held_out(len(train.texts), HELD_OUT["tweets"], seed + 2)
            src.chunks.append((lang, train.texts))
            for i, label in enumerate(train.labels.tolist()):
                src.rows.append(_Row(lang, i, None, label, lang, bool(held[i])))
    return src


def build_rows(src: Sources, states: dict[str, TokenStates]) -> tuple[TokenStates, Rows]:
    """All chunks' states in one store, and the rows pointing into it."""
    names = [name for name, _ in src.chunks]
    start, at = {}, 0
    for name in names:
        start[name] = at
        at += len(states[name])
    merged = TokenStates.concat([states[name] for name in names])
    n = len(src.rows)
    det = np.zeros((n, len(DETERMINANTS)), dtype=np.float32)
    has = np.zeros(n, dtype=bool)
    for r, row in enumerate(src.rows):
        if row.determinants is not None:
            det[r], has[r] = row.determinants, True
    rows = Rows(
        text=np.array([start[row.chunk] + row.i for row in src.rows], dtype=np.int64),
        span=[row.span for row in src.rows],
        sentiment=np.array([row.sentiment for row in src.rows], dtype=np.int64),
        determinants=det,
        has_determinants=has,
        domain=np.array([row.domain for row in src.rows]),
        held_out=np.array([row.held_out for row in src.rows], dtype=bool),
    )
    return merged, rows
