"""Builds the classifier the settings ask for."""

from __future__ import annotations

from ecoute.classifiers.base import Classifier
from ecoute.classifiers.determinants import cached_lexicon
from ecoute.classifiers.lexicon_tagger import LexiconSentenceClassifier
from ecoute.classifiers.transformer import TransformerSentiment
from ecoute.config.settings import Settings
from ecoute.errors import ModelError


def build_classifier(settings: Settings) -> Classifier:
    """The configured model folder with the lexicon, or the default bundled model."""
    lexicon = cached_lexicon(settings.determinants_file)
    if settings.model_dir is not None:
        labels = settings.model_labels.split(",") if settings.model_labels else None
        sentiment = TransformerSentiment(
            settings.model_dir, labels=labels, batch_size=settings.classify_batch_size,
            max_length=settings.classify_max_length, threads=settings.torch_threads,
        )
        return LexiconSentenceClassifier(sentiment, lexicon)
    raise ModelError(
        "no classification model is configured",
        hint="set ECOUTE_MODEL_DIR to a transformers sentiment model folder",
    )
