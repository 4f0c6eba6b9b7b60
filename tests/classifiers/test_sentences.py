from __future__ import annotations

import pytest

from ecoute.classifiers.sentences import split_segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Friendly staff but 40 minutes of waiting.", ["Friendly staff", "but 40 minutes of waiting."]),
        ("M. Dupont était aimable. Attente trop longue !",
         ["M. Dupont était aimable.", "Attente trop longue !"]),
        ("Dr. Smith helped me, e.g. with the form. Great!",
         ["Dr. Smith helped me, e.g. with the form.", "Great!"]),
        ("Bediening is een beetje traag, maar vriendelijk personeel.",
         ["Bediening is een beetje traag", "maar vriendelijk personeel."]),
        ("La comida fue buena. El servicio, lento pero muy amable.",
         ["La comida fue buena.", "El servicio, lento", "pero muy amable."]),
        ("Das Personal war freundlich aber wir haben lange gewartet",
         ["Das Personal war freundlich", "aber wir haben lange gewartet"]),
        ("Henkilökunta oli ystävällistä mutta jono oli pitkä",
         ["Henkilökunta oli ystävällistä", "mutta jono oli pitkä"]),
        ("super accueil\nimpossible de joindre le standard", ["super accueil",
                                                             "impossible de joindre le standard"]),
        ("Quoi ?! Encore fermé… Incroyable", ["Quoi ?!", "Encore fermé…", "Incroyable"]),
        ("", []),
    ],
)
def test_segments(text: str, expected: list[str]) -> None:
    assert [s.text for s in split_segments(text)] == expected


def test_spans_point_into_the_text() -> None:
    text = "  Accueil parfait.   Mais 2 heures d'attente. "
    for seg in split_segments(text):
        assert text[seg.start : seg.end] == seg.text
