"""The classifier seam: what every classifier returns and the one method it has."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

SENTIMENTS: tuple[str, str, str] = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class SentimentScores:
    """Probabilities of negative, neutral and positive (summing to 1)."""

    negative: float
    neutral: float
    positive: float

    @property
    def label(self) -> str:
        scores = {"negative": self.negative, "neutral": self.neutral, "positive": self.positive}
        return max(scores, key=scores.__getitem__)

    @classmethod
    def from_list(cls, probs: Sequence[float]) -> SentimentScores:
        neg, neu, pos = (float(p) for p in probs)
        return cls(negative=neg, neutral=neu, positive=pos)


@dataclass(frozen=True)
class DeterminantMention:
    """One determinant talked about in one sentence (character span of the item's text;
    ``None`` when the sentence is not part of it, such as a title read with the text)."""

    determinant: str
    polarity: str  # positive | negative | neutral
    confidence: float
    start: int | None
    end: int | None
    provenance: str = "model"


@dataclass
class Prediction:
    sentiment: SentimentScores
    determinants: list[DeterminantMention] = field(default_factory=list)
    lang: str | None = None


@runtime_checkable
class Classifier(Protocol):
    """Gives every text a sentiment and the determinants its sentences talk about."""

    #: Recorded on every tagging; a new name or version means items get re-tagged.
    name: str
    version: str

    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...


@runtime_checkable
class SentimentModel(Protocol):
    """Scores the sentiment of short texts (items or sentences), in batches."""

    name: str
    version: str

    def score(self, texts: Sequence[str]) -> list[SentimentScores]: ...
