"""The classifier seam: what every classifier returns and the one method it has."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ecoute.domain import Prediction, SentimentScores

@runtime_checkable
class Classifier(Protocol):
    """Gives every text a sentiment and the determinants its sentences talk about."""

    #: Recorded on every tagging; a new name or version means items get re-tagged.
    name: str
    version: str

    def predict(
        self, texts: Sequence[str], channels: Sequence[str | None] | None = None,
    ) -> list[Prediction]:
        """One prediction per text. ``channels`` (one per text, ``None`` when not known)
        may change how a text is read: feedback to a service is judged otherwise than a
        social post."""
        ...


@runtime_checkable
class SentimentModel(Protocol):
    """Scores the sentiment of short texts (items or sentences), in batches."""

    name: str
    version: str

    def score(self, texts: Sequence[str]) -> list[SentimentScores]: ...
