"""Ratings, one normalisation for every collector: the scales surveys and audits use, reading an
answer into a number, 0..1 values, and Net Promoter categories."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecoute.collectors.base import RawItem

#: Rating scales: name → (lowest, highest). ``nps`` is 0-10 with promoter/detractor categories.
SCALES: dict[str, tuple[float, float]] = {
    "1-5": (1, 5), "0-5": (0, 5), "1-4": (1, 4), "1-7": (1, 7), "1-10": (1, 10),
    "0-10": (0, 10), "0-20": (0, 20), "0-100": (0, 100), "nps": (0, 10), "yes/no": (0, 1),
}
YES = {"yes", "oui", "y", "o", "true", "vrai", "1", "ja", "si", "sí", "sim", "satisfied"}
NO = {"no", "non", "n", "false", "faux", "0", "nein", "não", "nao", "unsatisfied"}


def parse_rating(raw: str, scale: str) -> float | None:
    """The number a rating answer holds ("4", "4/5", "4 étoiles", "Oui"), or None."""
    text = " ".join(raw.split()).lower()
    if scale == "yes/no":
        return 1.0 if text in YES else 0.0 if text in NO else None
    match = re.search(r"-?\d+(?:[.,]\d+)?", text)
    if not match:
        return None
    value = float(match.group().replace(",", "."))
    low, high = SCALES[scale]
    return value if low <= value <= high else None


def rating_norm(value: float, scale: str) -> float:
    low, high = SCALES[scale]
    return (value - low) / (high - low)


def nps_category(value: float) -> str:
    """Net Promoter categories of a 0-10 answer: 9-10 promoter, 7-8 passive, 0-6 detractor."""
    if value >= 9:
        return "promoter"
    return "passive" if value >= 7 else "detractor"


@dataclass(frozen=True)
class NetPromoterScore:
    promoters: int
    passives: int
    detractors: int

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """% promoters − % detractors, from −100 to 100; None without answers."""
        return 100.0 * (self.promoters - self.detractors) / self.n if self.n else None


def net_promoter_score(values: Iterable[float | None]) -> NetPromoterScore:
    """NPS of 0-10 answers (missing ones ignored)."""
    counts = {"promoter": 0, "passive": 0, "detractor": 0}
    for value in values:
        if value is not None:
            counts[nps_category(value)] += 1
    return NetPromoterScore(counts["promoter"], counts["passive"], counts["detractor"])


def normalized_rating(raw: RawItem) -> float | None:
    """A raw item's rating on 0..1: as the collector gave it, or from its value and
    ``low-high`` scale; None when neither says."""
    if raw.rating_norm is not None:
        return max(0.0, min(1.0, raw.rating_norm))
    if raw.rating_value is None or not raw.rating_scale:
        return None
    low, sep, high = raw.rating_scale.partition("-")
    try:
        lo, hi = float(low), float(high)
    except ValueError:
        return None
    if not sep or hi <= lo:
        return None
    return max(0.0, min(1.0, (raw.rating_value - lo) / (hi - lo)))
