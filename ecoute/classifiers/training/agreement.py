"""Agreement between two annotators of the same items (Cohen's kappa).

A labelled set is only as good as its labels: each item of the determinant training set was
labelled twice, independently, and the agreement is reported per determinant (is it there,
and with which polarity), for the sentiment and for the mixed flag, so that a reader can tell
which labels are firm before trusting a score computed on them.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ecoute.classifiers.training.evaluation import parse_determinants
from ecoute.domain import DETERMINANTS
from ecoute.errors import ConfigError


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> float:
    """Observed agreement corrected for the agreement expected by chance; 1.0 when both
    annotators give one and the same label to every item (nothing left to chance)."""
    if len(first) != len(second) or not first:
        raise ValueError("kappa needs two label lists of the same, non-zero length")
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    counts_a, counts_b = Counter(first), Counter(second)
    expected = sum(counts_a[k] * counts_b[k] for k in counts_a.keys() | counts_b.keys()) / n / n
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class Labels:
    lang: str
    sentiment: str
    mixed: str
    determinants: dict[str, str]


@dataclass(frozen=True)
class Agreement:
    items: int
    presence: dict[str, float]  # determinant -> kappa on "is it there"
    with_polarity: dict[str, float]  # determinant -> kappa on absent/positive/negative
    counts: dict[str, tuple[int, int]]  # determinant -> items tagged by each annotator
    sentiment: float
    mixed: float
    items_differing: int


def read_labels(path: Path) -> dict[str, Labels]:
    """``id,lang,sentiment,mixed,determinants`` rows; errors name the file and line."""
    out: dict[str, Labels] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            pairs = parse_determinants(row["determinants"] or "", f"{path}, line {line}")
            out[row["id"]] = Labels(row["lang"], row["sentiment"], row["mixed"], dict(pairs))
    return out


def agreement(first: dict[str, Labels], second: dict[str, Labels]) -> Agreement:
    if first.keys() != second.keys():
        raise ConfigError("the two annotation files do not label the same items",
                          hint="both files must hold one row for every item id")
    ids = sorted(first)
    presence, with_polarity, counts = {}, {}, {}
    for name in DETERMINANTS:
        a = [first[i].determinants.get(name, "") for i in ids]
        b = [second[i].determinants.get(name, "") for i in ids]
        presence[name] = cohen_kappa([bool(x) for x in a], [bool(x) for x in b])
        with_polarity[name] = cohen_kappa(a, b)
        counts[name] = (sum(map(bool, a)), sum(map(bool, b)))
    differing = sum(first[i] != second[i] for i in ids)
    return Agreement(
        items=len(ids), presence=presence, with_polarity=with_polarity, counts=counts,
        sentiment=cohen_kappa([first[i].sentiment for i in ids], [second[i].sentiment for i in ids]),
        mixed=cohen_kappa([first[i].mixed for i in ids], [second[i].mixed for i in ids]),
        items_differing=differing,
    )


def markdown_table(result: Agreement) -> str:
    lines = ["| determinant | annotator 1 | annotator 2 | kappa (present) | kappa (with polarity) |",
             "|---|---|---|---|---|"]
    for name in DETERMINANTS:
        one, two = result.counts[name]
        lines.append(f"| {name} | {one} | {two} | {result.presence[name]:.3f} "
                     f"| {result.with_polarity[name]:.3f} |")
    lines.append(f"| sentiment | | | {result.sentiment:.3f} | |")
    lines.append(f"| mixed | | | {result.mixed:.3f} | |")
    return "\n".join(lines)
