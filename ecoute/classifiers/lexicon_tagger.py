"""A classifier made of a sentiment model and the determinants lexicon, applied per segment.

The item's sentiment is the model's score of the whole text; each segment (sentence or
contrasted clause) gets its own score, and each determinant the lexicon finds in a segment
takes that segment's polarity.
"""

from __future__ import annotations

from collections.abc import Sequence

from ecoute.domain import DeterminantMention, Prediction
from ecoute.classifiers.base import SentimentModel
from ecoute.classifiers.determinants import Lexicon
from ecoute.classifiers.language import detect_languages
from ecoute.classifiers.sentences import split_segments

#: Below this probability a segment's label is treated as neutral for determinant polarity.
POLARITY_MIN_CONFIDENCE = 0.45


class LexiconSentenceClassifier:
    """Item sentiment from the model, determinants from the lexicon with segment polarity."""

    def __init__(self, sentiment: SentimentModel, lexicon: Lexicon) -> None:
        self.sentiment = sentiment
        self.lexicon = lexicon
        self.name = f"{sentiment.name}+lexicon"
        self.version = sentiment.version

    def predict(
        self, texts: Sequence[str], channels: Sequence[str | None] | None = None,
    ) -> list[Prediction]:
        """A folder's model reads every channel alike: ``channels`` is not used."""
        segments = [split_segments(text) for text in texts]
        langs = detect_languages(texts)
        flat = [seg.text for segs in segments for seg in segs]
        # One batched call for items and segments: the model sorts by length itself.
        scores = self.sentiment.score(list(texts) + flat)
        item_scores, segment_scores = scores[: len(texts)], iter(scores[len(texts) :])
        predictions = []
        for text_segments, item_score, lang in zip(segments, item_scores, langs, strict=True):
            mentions: list[DeterminantMention] = []
            for seg in text_segments:
                score = next(segment_scores)
                matched = self.lexicon.match(seg.text, lang)
                if not matched:
                    continue
                label = score.label
                confidence = getattr(score, label)
                polarity = label if confidence >= POLARITY_MIN_CONFIDENCE else "neutral"
                for determinant in matched:
                    mentions.append(
                        DeterminantMention(
                            determinant=determinant, polarity=polarity,
                            confidence=round(confidence, 4), start=seg.start, end=seg.end,
                        )
                    )
            predictions.append(Prediction(sentiment=item_score, determinants=mentions))
        return predictions
