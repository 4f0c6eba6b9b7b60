"""Evidence that a text talks about each determinant, from three sources.

(a) the editable lexicon (``config/determinants.toml``), (b) the similarity of each segment's
embedding to example sentences and descriptions of each determinant in several languages
(``config/determinant_examples.toml``), and (c) the item's embedding itself, which a head
trained on labelled items turns, together with (a) and (b), into one probability per
determinant. :func:`item_features` builds the head's input, the same way for training and
for classification.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from ecoute.domain import DETERMINANTS
from ecoute.classifiers.determinants import Lexicon
from ecoute.classifiers.heads import LinearHead
from ecoute.errors import ConfigError

#: Relative similarities are small numbers around 0; this brings them to the scale of a logit.
SIMILARITY_SCALE = 10.0


def default_examples_file() -> Path:
    return Path(str(files("ecoute.config") / "determinant_examples.toml"))


def load_examples(path: Path | None, lexicon: Lexicon) -> dict[str, list[str]]:
    """Example sentences (and the lexicon's descriptions) of each determinant."""
    source = path or default_examples_file()
    try:
        data = tomllib.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the determinant examples {source}: {exc}") from exc
    examples: dict[str, list[str]] = {}
    for name in DETERMINANTS:
        entry = data.get(name, {})
        if not isinstance(entry, dict):
            raise ConfigError(f"{source}: [{name}] must be a table of language = [sentences]")
        sentences = [s for lang_list in entry.values() for s in lang_list if str(s).strip()]
        sentences += list(lexicon.determinants[name].descriptions.values())
        if not sentences:
            raise ConfigError(
                f"{source}: determinant {name!r} has no example sentence and no description",
                hint="give it at least one example sentence",
            )
        examples[name] = [str(s) for s in sentences]
    return examples


@dataclass
class Prototypes:
    """Embeddings of the example sentences, and the determinant each one illustrates."""

    matrix: np.ndarray  # (n_examples, dim), rows L2-normalised per layer block
    owner: np.ndarray  # (n_examples,) index into DETERMINANTS
    blocks: int  # number of pooled layers concatenated in each row

    def similarity(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, 7): the best cosine to an example of each determinant, minus the row mean.

        Subtracting the mean over determinants keeps what distinguishes them: every sentence
        about a public service is somewhat similar to all the examples.
        """
        if len(embeddings) == 0:
            return np.zeros((0, len(DETERMINANTS)), dtype=np.float32)
        cosine = (embeddings @ self.matrix.T) / self.blocks
        best = np.full((len(embeddings), len(DETERMINANTS)), -1.0, dtype=np.float32)
        for k in range(len(DETERMINANTS)):
            columns = self.owner == k
            if columns.any():
                best[:, k] = cosine[:, columns].max(axis=1)
        return SIMILARITY_SCALE * (best - best.mean(axis=1, keepdims=True))


@dataclass
class Evidence:
    """Per segment of one item: similarity to each determinant, and lexicon hits."""

    similarity: np.ndarray  # (segments, 7)
    hits: np.ndarray  # (segments, 7): cues that count on their own
    weak: np.ndarray  # (segments, 7): weak cues, which count only when the head agrees


def segment_evidence(
    segment_embeddings: np.ndarray,
    segment_texts: Sequence[str],
    lexicon: Lexicon,
    prototypes: Prototypes,
    lang: str | None = None,
    similarity: np.ndarray | None = None,
) -> Evidence:
    """Per segment: similarity to each determinant and lexicon hits, to place mentions
    (``similarity``: already computed for these segments, with the rest of a batch)."""
    hits = np.zeros((len(segment_texts), len(DETERMINANTS)), dtype=np.float32)
    weak = np.zeros_like(hits)
    for i, text in enumerate(segment_texts):
        strong_found, weak_found = lexicon.match_both(text, lang)
        for name in strong_found:
            hits[i, DETERMINANTS.index(name)] = 1.0
        for name in weak_found:
            weak[i, DETERMINANTS.index(name)] = 1.0
    if similarity is None:
        similarity = prototypes.similarity(segment_embeddings)
    return Evidence(similarity, hits, weak)


#: Columns after the embedding in a row of :func:`item_features`: similarity, hits, weak hits.
EXTRA_COLUMNS = 3 * len(DETERMINANTS)


def item_features(
    item_embedding: np.ndarray,
    segment_embeddings: np.ndarray,
    segment_texts: Sequence[str],
    lexicon: Lexicon,
    prototypes: Prototypes,
    *,
    lang: str | None = None,
    evidence: Evidence | None = None,
) -> np.ndarray:
    """Input of the determinant head for one item: embedding, best similarity, lexicon hits
    (cues that count on their own, then weak cues).

    ``evidence`` is what :func:`segment_evidence` already returned for these segments, so
    the classifier does not run the lexicon and the similarities twice.
    """
    zeros = np.zeros(len(DETERMINANTS), dtype=np.float32)
    if len(segment_texts):
        found = evidence or segment_evidence(
            segment_embeddings, segment_texts, lexicon, prototypes, lang)
        parts = [found.similarity.max(axis=0), found.hits.max(axis=0), found.weak.max(axis=0)]
    else:
        parts = [prototypes.similarity(item_embedding[None, :])[0], zeros, zeros]
    return np.concatenate([item_embedding, *parts]).astype(np.float32)


def segment_features(segment_embeddings: np.ndarray, evidence: Evidence) -> np.ndarray:
    """Rows shaped like :func:`item_features`, one per segment, so the determinant head can
    say which segment a determinant without a cue is about."""
    return np.concatenate([segment_embeddings, evidence.similarity, evidence.hits, evidence.weak],
                          axis=1).astype(np.float32)


def lexicon_part(features: np.ndarray) -> np.ndarray:
    """Which determinants the cues that count on their own found, read back from
    :func:`item_features` rows."""
    n = len(DETERMINANTS)
    return np.asarray(features)[..., -2 * n : -n] > 0.5


def placed_segments(evidence: Evidence, placement: np.ndarray, k: int) -> list[int]:
    """The segments determinant ``k`` is said in: where a cue that counts sees it, else where
    a weak cue does, else the one segment ``placement`` (the determinant head on each
    segment, or the similarity to the examples) scores highest."""
    where = np.flatnonzero(evidence.hits[:, k])
    if len(where) == 0:
        where = np.flatnonzero(evidence.weak[:, k])
    if len(where) == 0:
        where = np.array([int(np.argmax(placement[:, k]))])
    return [int(j) for j in where]


def polarity_features(segment_embeddings: np.ndarray, k: int) -> np.ndarray:
    """Input of the polarity head: the segment's embedding and which determinant it is
    said to be about (one column per determinant)."""
    which = np.zeros((len(segment_embeddings), len(DETERMINANTS)), dtype=np.float32)
    which[:, k] = 1.0
    return np.concatenate([np.asarray(segment_embeddings, dtype=np.float32), which], axis=1)


def polarity_leans(head: LinearHead, segment_embeddings: np.ndarray) -> np.ndarray:
    """(segments, 7): positive minus negative logit of the polarity head for every segment
    and determinant, from one product (the determinant only shifts the logits)."""
    positive, negative = head.labels.index("positive"), head.labels.index("negative")
    diff = (head.weight[positive] - head.weight[negative]) / head.temperature
    dim = diff.shape[0] - len(DETERMINANTS)
    base = np.asarray(segment_embeddings, dtype=np.float32) @ diff[:dim]
    base += (head.bias[positive] - head.bias[negative]) / head.temperature
    return base[:, None] + diff[dim:][None, :]
