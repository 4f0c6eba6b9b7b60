"""Cue precision is measured on labelled items, and bad cues are muted or weakened."""

from __future__ import annotations

from ecoute.classifiers.determinants import load_lexicon
from ecoute.classifiers.training.cue_precision import CuePrecision, choose_cues, cue_precision


def test_precision_counts_items_where_the_cue_fires_and_is_right() -> None:
    lexicon = load_lexicon()
    texts = ["Agent aimable", "Agent aimable, attente longue", "Repas aimable ?", "Rien"]
    labels = [{"courtesy"}, {"courtesy", "waiting_time"}, set(), set()]
    measured = {c.cue: c for c in cue_precision(lexicon, texts, ["fr"] * 4, labels)}
    aimable = measured[("courtesy", "fr:aimable*")]
    assert (aimable.items, aimable.right) == (3, 2)
    assert measured[("waiting_time", "fr:attente*")].precision == 1.0


def test_choices_mute_wrong_cues_weaken_doubtful_ones_and_keep_rare_ones() -> None:
    measured = [
        CuePrecision(("courtesy", "fr:a"), items=10, right=1),  # 0.1: muted
        CuePrecision(("courtesy", "fr:b"), items=10, right=4),  # 0.4: weak
        CuePrecision(("courtesy", "fr:c"), items=10, right=9),  # 0.9: kept
        CuePrecision(("courtesy", "fr:d"), items=2, right=0),  # too few to judge: kept
    ]
    muted, weak = choose_cues(measured)
    assert muted == [("courtesy", "fr:a")]
    assert weak == [("courtesy", "fr:b")]
