"""How often each lexicon cue is right, measured on labelled items, and what follows.

A cue is right in an item when the item is labelled with the cue's determinant. A cue right
less often than :data:`MUTE_BELOW` is muted (never counted); one right less often than
:data:`WEAK_BELOW` is weak (the determinant head sees it, but it never counts on its own).
A cue seen in fewer than :data:`MIN_ITEMS` items keeps counting: it was written from the
guidelines, and two items say nothing about it. The choice is made on training items only
(each fold's own in cross-validation) and stored in the determinant head.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ecoute.classifiers.determinants import Cue, Lexicon

MIN_ITEMS = 3
MUTE_BELOW = 0.3
WEAK_BELOW = 0.6


@dataclass(frozen=True)
class CuePrecision:
    cue: Cue
    items: int  # items where the cue fires
    right: int  # of which labelled with the cue's determinant

    @property
    def precision(self) -> float:
        return self.right / self.items if self.items else 0.0


def cue_precision(
    lexicon: Lexicon, texts: Sequence[str], langs: Sequence[str | None],
    labels: Sequence[Collection[str]],
) -> list[CuePrecision]:
    """Each cue found in ``texts`` (in its language's gating) with how often it is right."""
    fired: dict[Cue, list[int]] = {}
    for text, lang, names in zip(texts, langs, labels, strict=True):
        for cue in set(lexicon.cues(text, lang)):
            counts = fired.setdefault(cue, [0, 0])
            counts[0] += 1
            counts[1] += cue[0] in names
    return sorted((CuePrecision(cue, n, right) for cue, (n, right) in fired.items()),
                  key=lambda c: (c.precision, -c.items, c.cue))


def choose_cues(
    measured: Sequence[CuePrecision], *, min_items: int = MIN_ITEMS,
    mute_below: float = MUTE_BELOW, weak_below: float = WEAK_BELOW,
) -> tuple[list[Cue], list[Cue]]:
    """``(muted, weak)`` cues from their measured precision."""
    judged = [c for c in measured if c.items >= min_items]
    muted = sorted(c.cue for c in judged if c.precision < mute_below)
    weak = sorted(c.cue for c in judged if mute_below <= c.precision < weak_below)
    return muted, weak
