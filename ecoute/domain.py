"""The shared vocabulary: channels, sentiments, polarities, the seven determinants and what a
classifier predicts.

Every layer speaks these words, so they live in a leaf that imports nothing of ecoute: the store
can type its columns, collectors can name their channel and the API can validate a determinant
without importing one another.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field


class Channel(enum.StrEnum):
    REVIEW = "review"
    SOCIAL = "social"
    COMPLAINT = "complaint"
    SURVEY = "survey"
    SERVICE_REQUEST = "service_request"
    MINUTES = "minutes"
    EMAIL = "email"
    ELECTED_FEEDBACK = "elected_feedback"
    PHONE = "phone"
    AUDIT = "audit"


class Sentiment(enum.StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


#: The order of a classifier's probability vectors.
SENTIMENTS: tuple[str, str, str] = ("negative", "neutral", "positive")


class Polarity(enum.StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    #: A human said the item does not talk about this determinant; counts nowhere.
    NONE = "none"


class Provenance(enum.StrEnum):
    MODEL = "model"
    HUMAN = "human"
    RULE = "rule"
    #: Stated by the source itself (a mystery-visit score): wins over model and rule tags,
    #: is never replaced by a classifier run; only a human tag overrides it.
    AUDIT = "audit"


class Determinant(enum.StrEnum):
    """The seven service-quality determinants of the AFNOR Citizen Experience barometer."""

    ACCESSIBILITY = "accessibility"
    RESPONSIVENESS = "responsiveness"
    COURTESY = "courtesy"
    PERSONALIZATION = "personalization"
    WAITING_TIME = "waiting_time"
    TRANSFER_EFFICIENCY = "transfer_efficiency"
    COMPLAINTS_MANAGEMENT = "complaints_management"


DETERMINANTS: tuple[str, ...] = tuple(d.value for d in Determinant)

#: Determinant name used in the rollups for item-level sentiment (all mentions of an item).
OVERALL = "_overall"

#: Classified version (and tagging model version) of an item whose source stated its verdict
#: (an audit score): no classifier is asked about it.
STATED = "stated"

#: Key of an item's ``extra`` that records which fields were cut to the stored maximum, and
#: their length before the cut.
TRUNCATED_KEY = "truncated"


#: Rating scales a source may declare: name → (lowest, highest answer). ``nps`` is the 0-10
#: "would you recommend" question; items store it as ``0-10``.
RATING_SCALES: dict[str, tuple[float, float]] = {
    "1-5": (1, 5), "0-5": (0, 5), "1-4": (1, 4), "1-7": (1, 7), "1-10": (1, 10),
    "0-10": (0, 10), "0-20": (0, 20), "0-100": (0, 100), "nps": (0, 10), "yes/no": (0, 1),
}
#: The scales whose answers have Net Promoter categories.
NPS_SCALES = frozenset({"nps", "0-10"})


def scale_bounds(scale: str) -> tuple[float, float] | None:
    """Lowest and highest answer of a named scale or of any ``low-high`` one ("2-6");
    None when the name says neither."""
    if scale in RATING_SCALES:
        return RATING_SCALES[scale]
    low, sep, high = scale.partition("-")
    try:
        lo, hi = float(low), float(high)
    except ValueError:
        return None
    return (lo, hi) if sep and hi > lo else None


def satisfied_from(scale: str) -> float | None:
    """The lowest answer that counts as satisfied in a CSAT share (None for an unknown scale).

    The rule: the top answer of a two-answer scale (yes/no), the top two answers of a scale of
    3 to 11 answers (4-5 of 1-5, 6-7 of 1-7, 9-10 of 0-10, which are the promoters), and the
    top fifth of a longer one (16-20 of 0-20, 80-100 of 0-100).
    """
    bounds = scale_bounds(scale)
    if bounds is None:
        return None
    low, high = bounds
    answers = high - low + 1
    if answers <= 2:
        return high
    if answers <= 11:
        return high - 1
    return low + 0.8 * (high - low)


def nps_category(value: float) -> str:
    """Net Promoter categories of a 0-10 answer: 9-10 promoter, 7-8 passive, 0-6 detractor."""
    if value >= 9:
        return "promoter"
    return "passive" if value >= 7 else "detractor"


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
    """What a classifier says of one text."""

    sentiment: SentimentScores
    determinants: list[DeterminantMention] = field(default_factory=list)
    lang: str | None = None
    #: The item's embedding, when the classifier computes one anyway (the default encoder):
    #: kept for negative items, whose similar ones make emerging topics.
    embedding: tuple[float, ...] | None = None
