"""Reading schema.org Review, Rating and AggregateRating objects, whatever the markup.

extruct hands JSON-LD and microdata over in one compact shape and RDFa as expanded JSON-LD;
these functions bring RDFa to the compact shape, find the review objects and read their loosely
typed values ("4,5", {"name": ...}, lists) into plain Python values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

REVIEW_TYPES = frozenset({"Review", "UserReview", "CriticReview", "EmployerReview", "MediaReview"})
AGGREGATE_TYPES = frozenset({"AggregateRating", "EmployerAggregateRating"})
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def parse_scale(value: str) -> tuple[float, float]:
    """(low, high) of a scale written "1-5"; ValueError when it is not one."""
    low, sep, high = value.partition("-")
    try:
        lo, hi = float(low), float(high)
    except ValueError:
        lo = hi = 0.0
    if not sep or hi <= lo:
        raise ValueError(f"{value!r} is not a rating scale like 1-5 or 0-10")
    return lo, hi


def find_ratings(
    node: Any, parent: dict[str, Any] | None
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """Every Review and AggregateRating with the nearest enclosing thing (what is reviewed)."""
    if isinstance(node, list):
        for child in node:
            yield from find_ratings(child, parent)
    elif isinstance(node, dict):
        types = {str(t).rsplit("/", 1)[-1] for t in as_list(node.get("@type"))}
        if types & REVIEW_TYPES:
            yield "review", node, parent
        elif types & AGGREGATE_TYPES:
            yield "aggregate", node, parent
        inner = node if types and not types & (REVIEW_TYPES | AGGREGATE_TYPES) else parent
        for key, child in node.items():
            if key not in ("reviewRating", "author", "itemReviewed"):
                yield from find_ratings(child, inner)


def compact_rdfa(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """extruct's RDFa (expanded JSON-LD, one flat node per subject) in the compact shape of
    the other syntaxes, so one walker reads all three."""
    by_id = {n.get("@id"): n for n in nodes if isinstance(n, dict)}

    def compact(node: dict[str, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {"@type": [t.rsplit("/", 1)[-1] for t in node.get("@type", [])]}
        for key, values in node.items():
            if key.startswith("@") or not isinstance(values, list) or not values:
                continue
            first = values[0]
            name = re.split(r"[/#]", key)[-1]
            if isinstance(first, dict) and "@value" in first:
                out[name] = first["@value"]
            elif isinstance(first, dict) and first.get("@id") in by_id and depth < 4:
                out[name] = compact(by_id[first["@id"]], depth + 1)
        return out

    referenced = {v.get("@id") for n in by_id.values() for vs in n.values()
                  if isinstance(vs, list) for v in vs if isinstance(v, dict)}
    return [compact(n, 0) for i, n in by_id.items() if n.get("@type") and i not in referenced]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def first_text(node: dict[str, Any], *keys: str) -> str:
    for key in keys:
        for value in as_list(node.get(key)):
            if isinstance(value, dict):
                value = value.get("@value") or value.get("name")
            if isinstance(value, (str, int, float)) and str(value).strip():
                return str(value).strip()
    return ""


def name_of(value: Any) -> str | None:
    for entry in as_list(value):
        if isinstance(entry, dict):
            entry = first_text(entry, "name", "alternateName")
        if isinstance(entry, str) and entry.strip():
            return " ".join(entry.split())[:200]
    return None


def parse_number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = NUMBER.search(str(value)) if isinstance(value, str) else None
    return float(match.group().replace(",", ".")) if match else None


def read_rating(rating: Any, default_scale: str) -> tuple[float | None, str | None]:
    """(value, "worst-best") of a Rating, a bare number or a string like "4,5"."""
    if not isinstance(rating, dict):
        rating = {"ratingValue": rating}
    value = parse_number(rating.get("ratingValue"))
    if value is None:
        return None, None
    lo, hi = parse_scale(default_scale)
    best, worst = parse_number(rating.get("bestRating")), parse_number(rating.get("worstRating"))
    hi = best if best is not None else hi
    lo = worst if worst is not None else lo
    if hi <= lo:  # a page's own inconsistent bounds: fall back to the configured scale
        lo, hi = parse_scale(default_scale)
    return value, f"{lo:g}-{hi:g}"


def normalize(value: float | None, scale: str | None) -> float | None:
    if value is None or not scale:
        return None
    lo, hi = parse_scale(scale)
    return max(0.0, min(1.0, (value - lo) / (hi - lo)))


def parse_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def short_lang(value: Any) -> str | None:
    text = str(value or "").strip()
    return text.replace("_", "-").split("-")[0].lower()[:16] or None
