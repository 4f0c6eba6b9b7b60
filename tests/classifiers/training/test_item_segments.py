"""The labelled items' determinant polarities teach segment sentiment where their cues are."""

from __future__ import annotations

from ecoute.classifiers.determinants import cached_lexicon
from ecoute.classifiers.training.evaluation import LabelledItem
from ecoute.classifiers.training.fit import SpanExamples
from ecoute.classifiers.training.item_segments import determinant_segments


def _item(text: str, lang: str, *labels: str) -> LabelledItem:
    pairs = frozenset(tuple(label.split(":")) for label in labels)
    return LabelledItem(text=text, lang=lang, determinants=pairs)  # type: ignore[arg-type]


def _rows(examples: SpanExamples) -> list[tuple[str, int]]:
    """(segment text, label) rows."""
    labels = iter(examples.labels.tolist())
    return [(text[s:e].strip(), next(labels))
            for text, spans in zip(examples.texts, examples.spans, strict=True)
            for s, e in spans]


def test_each_segment_takes_the_polarity_of_the_determinant_it_names() -> None:
    found = determinant_segments(
        [_item("Friendly staff but 40 minutes of waiting.", "en",
               "courtesy:positive", "waiting_time:negative"),
         _item("Das Personal war sehr unfreundlich.", "de", "courtesy:negative")],
        cached_lexicon(None),
    )
    assert _rows(found) == [("Friendly staff", 2), ("but 40 minutes of waiting.", 0),
                            ("Das Personal war sehr unfreundlich.", 0)]
    assert found.langs == ["en", "de"]


def test_nothing_is_learnt_without_a_cue_a_polarity_or_one_sign() -> None:
    items = [
        # no determinant cue anywhere: the polarity cannot be placed
        _item("Everything went well in the end.", "en", "complaints_management:positive"),
        # not annotated
        LabelledItem(text="The staff was friendly.", lang="en"),
        # one segment named by two determinants of opposite signs
        _item("The staff was friendly and the wait was long.", "en",
              "courtesy:positive", "waiting_time:negative"),
    ]
    found = determinant_segments(items, cached_lexicon(None))
    assert found.texts == [] and found.labels.tolist() == []
