"""Feedback that calls for action, stored through the real runner and classified by a small
word-list classifier, so that routing and follow-up tests know every tag in advance."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ecoute.classifiers.pending import classify_pending
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.domain import DeterminantMention, Prediction, SentimentScores
from ecoute.store.db import session_scope

#: word → (determinant, polarity) the classifier tags the sentence containing it with.
WORDS = {
    "attente": ("waiting_time", "negative"),
    "attendu": ("waiting_time", "negative"),
    "aimable": ("courtesy", "positive"),
    "impoli": ("courtesy", "negative"),
    "joindre": ("accessibility", "negative"),
    "rapide": ("responsiveness", "positive"),
}
_SENTENCE = re.compile(r"[^.!?]+[.!?]?")


class WordListClassifier:
    """Tags each sentence holding a word of :data:`WORDS`; the item is negative when one
    tag is, positive when one is and none negative, neutral otherwise."""

    name = "word-list"

    def __init__(self, words: dict[str, tuple[str, str]] | None = None,
                 version: str = "1") -> None:
        self.words = WORDS if words is None else words
        self.version = version

    def predict(
        self, texts: Sequence[str], channels: Sequence[str | None] | None = None,
    ) -> list[Prediction]:
        out = []
        for text in texts:
            mentions = []
            for match in _SENTENCE.finditer(text):
                sentence = match.group().lower()
                for word, (determinant, polarity) in self.words.items():
                    if word in sentence:
                        mentions.append(DeterminantMention(
                            determinant, polarity, 0.9, match.start(), match.end()))
            polarities = {m.polarity for m in mentions}
            if "negative" in polarities:
                scores = SentimentScores(0.8, 0.1, 0.1)
            elif "positive" in polarities:
                scores = SentimentScores(0.1, 0.1, 0.8)
            else:
                scores = SentimentScores(0.1, 0.8, 0.1)
            out.append(Prediction(sentiment=scores, determinants=mentions, lang="fr"))
        return out


def push(factory: sessionmaker[Session], settings: Settings, folder: Path,
         records: list[dict[str, Any]], *, authority: str = "valmont", name: str = "registre",
         department: str | None = None) -> int:
    """Store ``records`` (push records: external_id, text, channel, published_at, site,
    department, extra...) through the runner as a source of their own; returns its id."""
    folder.mkdir(parents=True, exist_ok=True)
    with session_scope(factory) as session:
        source_id = add_source(session, authority=authority, name=name, kind="push",
                               options={"path": str(folder)}, department=department).id
    path = folder / "batch.ndjson"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    report = run_source(factory, settings, source_id, options_override={"path": str(path)})
    assert report.new == len(records), report
    return source_id


def classify(factory: sessionmaker[Session], settings: Settings) -> int:
    """Classify (and so route) every pending item."""
    return classify_pending(factory, WordListClassifier(), settings=settings).classified
