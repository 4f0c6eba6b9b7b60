"""A stand-in for the e5 encoder in training tests: a vector per text and per segment, from
a rule the test chooses, with the attributes the embedding cache keys on."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ecoute.classifiers.e5.encoder import Encoded


class StandInEncoder:
    """Subclasses set ``dim`` and say how a text becomes a vector (:meth:`vector`)."""

    prefix = "query: "
    layers = (-1,)
    max_length = 64
    dim: int

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def vector(self, text: str) -> np.ndarray:
        raise NotImplementedError

    def encode(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]] | None = None
    ) -> Encoded:
        spans = spans if spans is not None else [[] for _ in texts]
        return Encoded(
            items=np.array([self.vector(t) for t in texts], dtype=np.float32
                           ).reshape(len(texts), self.dim),
            segments=[np.array([self.vector(t[a:b]) for a, b in sp], dtype=np.float32
                               ).reshape(len(sp), self.dim)
                      for t, sp in zip(texts, spans, strict=True)],
        )
