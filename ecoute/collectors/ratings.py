"""Ratings, one normalisation for every collector: reading an answer into a number on its scale,
and 0..1 values. The scales themselves and the Net Promoter categories are in ``domain``: the
assessment layer reads them too."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ecoute.domain import RATING_SCALES, scale_bounds

if TYPE_CHECKING:
    from ecoute.collectors.base import RawItem

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
    low, high = RATING_SCALES[scale]
    return value if low <= value <= high else None


def rating_norm(value: float, scale: str) -> float:
    low, high = RATING_SCALES[scale]
    return (value - low) / (high - low)


def normalized_rating(raw: RawItem) -> float | None:
    """A raw item's rating on 0..1: as the collector gave it, or from its value and
    ``low-high`` scale; None when neither says."""
    if raw.rating_norm is not None:
        return max(0.0, min(1.0, raw.rating_norm))
    if raw.rating_value is None or not raw.rating_scale:
        return None
    bounds = scale_bounds(raw.rating_scale)
    if bounds is None:
        return None
    lo, hi = bounds
    return max(0.0, min(1.0, (raw.rating_value - lo) / (hi - lo)))
