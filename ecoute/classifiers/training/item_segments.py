"""Segment sentiment taught by the labelled feedback items' determinant polarities.

A determinant's polarity in the training set is said of a part of the item: "Friendly staff
but 40 minutes of waiting" is ``courtesy:positive`` and ``waiting_time:negative``. Where
the lexicon places the determinant's cue in some segments, those segments take its
polarity — the aspect-level rows the sentiment heads lacked outside French reviews (tweets
are whole texts, and a segment pooled inside its item reads partly like the item). A
segment given both signs, or a determinant whose cue is nowhere, teaches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ecoute.classifiers.determinants import Lexicon
from ecoute.classifiers.sentences import split_segments
from ecoute.classifiers.training.evaluation import LabelledItem
from ecoute.classifiers.training.fit import SpanExamples

#: Sentiment classes of the heads (negative, neutral, positive), by determinant polarity.
POLARITY_CLASS = {"negative": 0, "positive": 2}


def determinant_segments(items: Sequence[LabelledItem], lexicon: Lexicon) -> SpanExamples:
    """Segments labelled by the polarity of the determinants whose cues they hold (the
    item's language picks the cues, as at classification time)."""
    texts: list[str] = []
    spans: list[list[tuple[int, int]]] = []
    labels: list[int] = []
    langs: list[str | None] = []
    for item in items:
        polar = {name: POLARITY_CLASS[pol] for name, pol in item.determinants or ()
                 if pol in POLARITY_CLASS}
        if not polar:
            continue
        found: dict[tuple[int, int], set[int]] = {}
        for seg in split_segments(item.text):
            strong, weak = lexicon.match_both(seg.text, item.lang)
            for name in set(strong) | set(weak):
                if name in polar:
                    found.setdefault((seg.start, seg.end), set()).add(polar[name])
        kept = [(span, signs.pop()) for span, signs in found.items() if len(signs) == 1]
        if kept:
            texts.append(item.text)
            langs.append(item.lang)
            spans.append([span for span, _ in kept])
            labels += [label for _, label in kept]
    return SpanExamples(texts=texts, spans=spans, labels=np.array(labels, dtype=np.int64),
                        langs=langs)
