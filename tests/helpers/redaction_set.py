"""The labelled redaction sets (tests/fixtures/privacy/*.jsonl) and their scoring.

``redaction_set.jsonl`` fills 80 sentence frames four times each; ``redaction_handwritten.jsonl``
holds sentences written one by one, each with its own data and layout (see the README there).

A labelled span is found when a detected span of the same kind covers it entirely; a detected
span is right when it overlaps a labelled span of its kind. A survivor is lost when any
detected span overlaps it."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ecoute.pii import KINDS, find_spans

SET_PATH = Path(__file__).parent.parent / "fixtures" / "privacy" / "redaction_set.jsonl"
HANDWRITTEN_PATH = SET_PATH.with_name("redaction_handwritten.jsonl")


def load_set(path: Path = SET_PATH) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _locate(data: bytes, value: str, after: int) -> tuple[int, int]:
    needle = value.encode()
    start = data.find(needle, after)
    if start < 0:
        start = data.find(needle)
    assert start >= 0, f"{value!r} is not in its sentence"
    return start, start + len(needle)


@dataclass
class Scores:
    true_pos: Counter[str] = field(default_factory=Counter)
    labelled: Counter[str] = field(default_factory=Counter)
    detected: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    survivors: int = 0
    survivors_lost: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    def recall(self, kind: str) -> float:
        return self.true_pos[kind] / self.labelled[kind] if self.labelled[kind] else 1.0

    def precision(self, kind: str) -> float:
        return self.right[kind] / self.detected[kind] if self.detected[kind] else 1.0


def score(rows: list[dict[str, object]]) -> Scores:
    scores = Scores()
    for row in rows:
        text = str(row["text"])
        data = text.encode()
        found = find_spans(data)
        labelled: list[tuple[int, int, str]] = []
        after = 0
        for span in row["spans"]:  # type: ignore[attr-defined]
            start, end = _locate(data, span["value"], after)
            after = end
            labelled.append((start, end, span["type"]))
            scores.labelled[span["type"]] += 1
            if any(f.kind == span["type"] and f.start <= start and f.end >= end for f in found):
                scores.true_pos[span["type"]] += 1
            else:
                scores.misses.append(f"{span['type']} {span['value']!r} in {text!r}")
        for f in found:
            scores.detected[f.kind] += 1
            if any(k == f.kind and f.start < e and s < f.end for s, e, k in labelled):
                scores.right[f.kind] += 1
            else:
                scores.false_alarms.append(f"{f.kind} {data[f.start:f.end].decode()!r} in {text!r}")
        for survivor in row["survivors"]:  # type: ignore[attr-defined]
            start, end = _locate(data, survivor, 0)
            scores.survivors += 1
            if any(f.start < end and start < f.end for f in found):
                scores.survivors_lost.append(f"{survivor!r} in {text!r}")
    return scores


def kinds_in(scores: Scores) -> list[str]:
    return [k for k in KINDS if scores.labelled[k] or scores.detected[k]]
