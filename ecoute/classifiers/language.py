"""Offline language detection of feedback texts (lingua, n-gram models shipped in its wheel).

Low-accuracy mode (trigrams only) keeps the memory under 50 MB and detects several hundred
texts a second; a minimum relative distance makes too-short or ambiguous texts ("ok",
"merci !") come out as unknown instead of as a confident guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

#: ISO 639-1 codes of the languages we tell apart: those of public-service feedback in
#: Europe, plus the other languages of the sentiment training data.
LANGUAGES: tuple[str, ...] = (
    "fr", "en", "es", "de", "it", "nl", "pt", "fi", "sv", "da", "nb", "pl", "ca", "ar", "hi",
)


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in LANGUAGES]
    return (
        LanguageDetectorBuilder.from_languages(*languages)
        .with_low_accuracy_mode()
        .with_minimum_relative_distance(0.1)
        .build()
    )


def detect_languages(texts: Sequence[str]) -> list[str | None]:
    """ISO 639-1 code of each text's language, ``None`` when it cannot be told."""
    if not texts:
        return []
    detector = _detector()
    found = [detector.detect_language_of(text) for text in texts]
    return [lang.iso_code_639_1.name.lower() if lang is not None else None for lang in found]
