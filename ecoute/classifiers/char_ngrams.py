"""The wording of a text as hashed character n-grams, for the wording heads.

The encoder reads meaning; slang, spelling, hashtags, emoji and romanised words ("sai hai",
"trop bien", "grazie mille") carry a tweet's sentiment in ways a small encoder blurs. A
linear head on the text's character n-grams (2 to 5 characters inside word boundaries, as
scikit-learn's ``char_wb`` analyser) catches them, and its probabilities are blended with
the sentiment heads' (``docs/classification.md``, *Wording heads*).

Columns are a stable hash (CRC-32) of each n-gram, so no vocabulary is stored and the same
text gives the same columns in every process. Counts are damped (1 + log) and each row is
scaled to unit length, so a long text does not outvote a short one.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: 2 ** BITS columns: a 16-bit hash keeps the heads small (0.4 MB each in float16), and
#: 18 bits scored no better on the tweets (docs).
BITS = 16
SHORTEST, LONGEST = 2, 5
#: File name of a language's wording head beside the sentiment heads: ``wording-fr.safetensors``.
WORDING_PREFIX = "wording-"


@dataclass(frozen=True)
class SparseRows:
    """Rows of a sparse matrix (compressed rows: ``indptr``, ``indices``, ``values``)."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    n_cols: int

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.indptr) - 1, self.n_cols)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def take(self, rows: np.ndarray) -> SparseRows:
        """The rows ``rows`` (indexes or a boolean mask), in that order."""
        rows = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows)
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        pick = (np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
                if len(rows) else np.zeros(0, np.int64))
        indptr = np.concatenate([[0], np.cumsum(ends - starts)])
        return SparseRows(indptr, self.indices[pick], self.values[pick], self.n_cols)

    def matmul_t(self, weight: np.ndarray) -> np.ndarray:
        """``rows @ weight.T`` for a dense ``weight`` of shape (k, n_cols)."""
        out = np.zeros((len(self), weight.shape[0]), dtype=np.float32)
        owner = np.repeat(np.arange(len(self)), np.diff(self.indptr))
        np.add.at(out, owner, (weight[:, self.indices].astype(np.float32) * self.values).T)
        return out

    def to_torch(self):  # type: ignore[no-untyped-def]
        """The rows as a torch sparse matrix (float64), for training."""
        import torch

        owner = np.repeat(np.arange(len(self)), np.diff(self.indptr))
        index = torch.as_tensor(np.stack([owner, self.indices]), dtype=torch.long)
        return torch.sparse_coo_tensor(index, torch.as_tensor(self.values, dtype=torch.float64),
                                       self.shape, check_invariants=True).coalesce()


def _ngrams(text: str) -> list[str]:
    grams: list[str] = []
    for word in text.lower().split():
        padded = f" {word} "
        for n in range(SHORTEST, LONGEST + 1):
            if len(padded) < n:
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


def char_ngrams(texts: Sequence[str], bits: int = BITS) -> SparseRows:
    """Each text's hashed n-gram counts, damped and scaled to unit length."""
    mask = (1 << bits) - 1
    indptr, indices, values = [0], [], []
    for text in texts:
        columns, counts = np.unique(
            np.array([zlib.crc32(g.encode("utf-8")) & mask for g in _ngrams(text)],
                     dtype=np.int64), return_counts=True)
        weights = 1.0 + np.log(counts)
        norm = float(np.sqrt((weights**2).sum())) or 1.0
        indices.append(columns)
        values.append(weights / norm)
        indptr.append(indptr[-1] + len(columns))
    return SparseRows(
        np.array(indptr, dtype=np.int64),
        np.concatenate(indices) if indices else np.zeros(0, np.int64),
        (np.concatenate(values) if values else np.zeros(0)).astype(np.float32),
        1 << bits,
    )
