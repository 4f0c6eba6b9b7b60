"""A stand-in for the e5 encoder in training tests: a vector per text and per segment, from
a rule the test chooses, with the attributes the embedding cache keys on."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from ecoute.classifiers.determinant_scoring import Prototypes
from ecoute.classifiers.determinants import load_lexicon
from ecoute.classifiers.e5.classifier import SHARED, E5Classifier, SentimentHeads
from ecoute.classifiers.e5.encoder import Encoded
from ecoute.classifiers.heads import LinearHead
from ecoute.domain import DETERMINANTS


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


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny heads fit in a second on one thread and can take minutes on a busy machine with
    several. Modules use it with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def stand_in_classifier(encoder: StandInEncoder, sentiment_weight: np.ndarray) -> E5Classifier:
    """The default classifier on ``encoder``: one shared sentiment head of these weights (no
    bias), the shipped lexicon and one prototype per determinant along the first axes."""
    sentiment = LinearHead(["negative", "neutral", "positive"], sentiment_weight,
                           np.zeros(3, np.float32))
    prototypes = Prototypes(matrix=np.eye(len(DETERMINANTS), encoder.dim, dtype=np.float32),
                            owner=np.arange(len(DETERMINANTS)), blocks=1)
    return E5Classifier(encoder, SentimentHeads({SHARED: sentiment}),  # type: ignore[arg-type]
                        load_lexicon(), prototypes)
