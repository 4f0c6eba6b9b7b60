"""The default classifier: multilingual-e5-small, one forward pass per item, linear heads.

For each item: its language (offline detection), its segments (sentences, then contrasted
clauses), one encoder pass pooled over the whole item and over each segment's tokens, then

* sentiment of the item: for feedback (any channel but social posts), the judgement head,
  trained on labelled feedback items, on the item embedding; for social posts and texts of
  no known channel, the sentiment head(s) on the item embedding — a shared head, averaged
  with the head of the item's language when one was trained; either weighted towards its
  concluding segment and its resolution or thanks cues (``conclusion``);
* sentiment of each segment from the same heads on the segment embedding;
* determinants of the item from the determinant head on the item's features (embedding,
  similarity of its segments to the determinant examples, lexicon hits), each with its own
  threshold; each determinant found is placed on the segments where the lexicon sees it, or
  else on the segment most similar to its examples, and takes that segment's polarity: the
  polarity head's (trained on the labelled items' segments, for that determinant) when there
  is one, else the segment's sentiment. So "friendly staff but 40 minutes of waiting" gives
  courtesy:positive and waiting_time:negative, and the item itself can be mixed.

Determinants the lexicon finds are always kept (provenance ``rule``); the head adds and
scores the others (provenance ``model``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ecoute.domain import Channel, DeterminantMention, Prediction, SentimentScores, DETERMINANTS
from ecoute.classifiers.conclusion import final_judgement
from ecoute.classifiers.determinant_scoring import (
    Prototypes,
    item_features,
    placed_segments,
    polarity_leans,
    segment_evidence,
    segment_features,
)
from ecoute.classifiers.determinants import Lexicon
from ecoute.classifiers.e5.encoder import E5Encoder
from ecoute.classifiers.char_ngrams import char_ngrams
from ecoute.classifiers.heads import LinearHead
from ecoute.classifiers.language import detect_languages
from ecoute.classifiers.sentences import Segment, split_segments

SHARED = "*"
#: How much of the whole item's lean is taken out of a segment's before its determinants
#: take a polarity. Segment vectors are pooled inside the item's pass, so a positive
#: sentence inside a negative story reads partly negative; chosen by cross-validation on the
#: determinant training set (docs/classification.md).
POLARITY_CONTEXT = 0.0


def judged(channel: str | None) -> bool:
    """Whether an item of ``channel`` takes its sentiment from the judgement head.

    The sentiment heads are calibrated on tweets, a third of them neutral; people who write
    to a service (complaints, reviews, requests, surveys, emails) mostly judge it, and
    often by the facts. Social posts keep the tweets' reading, and so does a text whose
    channel is not known.
    """
    return channel is not None and channel != Channel.SOCIAL


def blend(sentiment: np.ndarray, wording: np.ndarray, weight: float) -> np.ndarray:
    """The sentiment heads' probabilities with a wording head's, at the wording's ``weight``."""
    return (1.0 - weight) * sentiment + weight * wording


class SentimentHeads:
    """A shared sentiment head and optional per-language ones, averaged when both apply;
    optional per-language wording heads (character n-grams) blended into the item's reading."""

    def __init__(self, heads: Mapping[str, LinearHead],
                 wording: Mapping[str, LinearHead] | None = None) -> None:
        if SHARED not in heads:
            raise ValueError("a shared sentiment head is required")
        self.heads = dict(heads)
        self.wording = dict(wording or {})

    def item_probabilities(self, x: np.ndarray, texts: Sequence[str],
                           langs: Sequence[str | None],
                           worded: np.ndarray | None = None) -> np.ndarray:
        """Whole texts: the heads' probabilities, blended with the wording head of the
        text's language where there is one, for the rows ``worded`` marks (all by default).
        Segments are read by the heads alone: the wording heads learned whole tweets."""
        out = self.probabilities(x, langs)
        worded = np.ones(len(texts), dtype=bool) if worded is None else worded
        for lang, head in self.wording.items():
            rows = np.flatnonzero(np.array([code == lang for code in langs], dtype=bool)
                                  & worded)
            if len(rows):
                wording = head.probabilities(char_ngrams([texts[int(i)] for i in rows]))
                out[rows] = blend(out[rows], wording, float(head.meta["blend"]))
        return out

    def probabilities(self, x: np.ndarray, langs: Sequence[str | None]) -> np.ndarray:
        shared = self.heads[SHARED].probabilities(x)
        out = shared.copy()
        for lang, head in self.heads.items():
            if lang == SHARED:
                continue
            rows = np.array([code == lang for code in langs], dtype=bool)
            if rows.any():
                out[rows] = (shared[rows] + head.probabilities(x[rows])) / 2
        return out


class E5Classifier:
    """Sentiment and determinants of feedback texts, on one shared encoder pass."""

    def __init__(
        self,
        encoder: E5Encoder,
        sentiment: SentimentHeads,
        lexicon: Lexicon,
        prototypes: Prototypes,
        *,
        determinant_head: LinearHead | None = None,
        polarity_head: LinearHead | None = None,
        judgement_head: LinearHead | None = None,
        name: str = "e5-small",
        fingerprint: str = "",
    ) -> None:
        self.encoder = encoder
        self.sentiment = sentiment
        self.lexicon = lexicon
        self.prototypes = prototypes
        self.determinant_head = determinant_head
        self.polarity_head = polarity_head
        self.judgement_head = judgement_head
        self.name = name
        self.version = fingerprint or "dev"
        self.polarity_context = POLARITY_CONTEXT

    def predict(
        self, texts: Sequence[str], channels: Sequence[str | None] | None = None,
    ) -> list[Prediction]:
        if not texts:
            return []
        channels = list(channels) if channels is not None else [None] * len(texts)
        if len(channels) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(channels)} channels")
        segments = [split_segments(text) for text in texts]
        encoded = self.encoder.encode(texts, [[(s.start, s.end) for s in segs] for segs in segments])
        langs = detect_languages(texts)
        feedback = np.array([judged(c) for c in channels], dtype=bool)
        # Feedback judged by the judgement head never reads the sentiment heads' item figure:
        # its wording is not worth computing.
        item_probs = self.sentiment.item_probabilities(
            encoded.items, texts, langs,
            worded=~feedback if self.judgement_head is not None else None)
        judgements = (self.judgement_head.probabilities(encoded.items)
                      if self.judgement_head is not None and feedback.any() else None)
        # Every segment of the batch through the heads at once, then split back per item.
        counts = [len(s) for s in segments]
        all_probs = self.sentiment.probabilities(
            np.concatenate([encoded.items[:0], *encoded.segments]),
            [lang for lang, count in zip(langs, counts, strict=True) for _ in range(count)],
        )
        bounds = np.cumsum([0, *counts])
        # One product for the whole batch: a small one per item costs more in thread
        # wake-ups of the linear algebra library than in arithmetic.
        all_similarity = self.prototypes.similarity(
            np.concatenate([encoded.items[:0], *encoded.segments]))
        # The top layer's block of the item embedding: what emerging topics compare.
        top = encoded.items[:, -(encoded.items.shape[1] // len(self.encoder.layers)):]
        predictions = []
        for i, text_segments in enumerate(segments):
            seg_emb = encoded.segments[i]
            seg_probs = all_probs[bounds[i] : bounds[i + 1]]
            seg_lean = _lean(seg_probs) - self.polarity_context * _lean(item_probs[i][None, :])
            mentions = self._determinants(encoded.items[i], seg_emb, text_segments, seg_lean,
                                          langs[i], all_similarity[bounds[i] : bounds[i + 1]])
            # Feedback: the judgement head learned from labelled feedback how its authors
            # judge, praise told by the facts included; the concluding rules apply to either.
            judgement = (judgements[i] if judgements is not None and feedback[i]
                         else item_probs[i])
            final = final_judgement(judgement, [s.text for s in text_segments], seg_probs)
            predictions.append(
                Prediction(
                    sentiment=SentimentScores.from_list(final.tolist()),
                    determinants=mentions,
                    lang=langs[i],
                    embedding=tuple(top[i].tolist()),
                )
            )
        return predictions

    def _determinants(
        self,
        item_embedding: np.ndarray,
        seg_emb: np.ndarray,
        segments: list[Segment],
        seg_lean: np.ndarray,
        lang: str | None = None,
        similarity: np.ndarray | None = None,
    ) -> list[DeterminantMention]:
        if not segments:
            return []
        seg_texts = [s.text for s in segments]
        evidence = segment_evidence(seg_emb, seg_texts, self.lexicon, self.prototypes, lang,
                                    similarity)
        # A keyword of the (editable) lexicon always counts, unless training found it wrong
        # more often than right or weak (then the head must agree): an authority that adds a
        # word expects it to take effect. The head adds what no keyword shows.
        present = {k: (1.0, "rule") for k in range(len(DETERMINANTS)) if evidence.hits[:, k].any()}
        # Where a determinant without a cue is said: the segment the head scores highest,
        # else the one most similar to its examples.
        placement = evidence.similarity
        if self.determinant_head is not None:
            features = item_features(item_embedding, seg_emb, seg_texts, self.lexicon,
                                     self.prototypes, evidence=evidence)
            probs = self.determinant_head.probabilities(features[None, :])[0]
            thresholds = self.determinant_head.thresholds or [0.5] * len(DETERMINANTS)
            for j, label in enumerate(self.determinant_head.labels):
                if probs[j] >= thresholds[j]:
                    present[DETERMINANTS.index(label)] = (float(probs[j]), "model")
            placement = self.determinant_head.logits(segment_features(seg_emb, evidence))
        # A segment's sentiment misreads praise told by the facts ("the bank sent every
        # statement to the notary itself"); the polarity head learned, per determinant,
        # which way such segments point.
        leans = (polarity_leans(self.polarity_head, seg_emb) if self.polarity_head is not None
                 else np.repeat(seg_lean[:, None], len(DETERMINANTS), axis=1))
        mentions = []
        for k, (confidence, provenance) in present.items():
            for j in placed_segments(evidence, placement, k):
                mentions.append(
                    DeterminantMention(
                        determinant=DETERMINANTS[k], polarity=_polarity(float(leans[j, k])),
                        confidence=round(confidence, 4), start=segments[j].start,
                        end=segments[j].end, provenance=provenance,
                    )
                )
        return mentions


def _lean(probs: np.ndarray) -> np.ndarray:
    """Positive minus negative probability of each row (negative, neutral, positive)."""
    return np.asarray(probs)[:, 2] - np.asarray(probs)[:, 0]


def _polarity(lean: float) -> str:
    """Positive or negative, whichever the segment leans to, even when it reads as neutral
    overall: a determinant is mentioned to say the service did well or badly ("the form is
    online" is praise of accessibility). Answering "neutral" there was wrong for 4% of the
    mentions of the gold dev set and right for none (its guidelines never needed it)."""
    return "positive" if lean > 0 else "negative"


def fingerprint(
    paths: Sequence[Path | None], extra: str = "", blobs: Sequence[bytes] = (),
) -> str:
    """A short hash of the files (and stored heads) a classifier is made of, so a change
    re-tags items."""
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        if path is not None and path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for blob in blobs:
        digest.update(b"head\0" + blob)
    return digest.hexdigest()[:12]
