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
        # Abbreviations and units in several languages.
        ("Mme. Martin nous a reçus à 9 h. Très efficace.",
         ["Mme. Martin nous a reçus à 9 h.", "Très efficace."]),
        ("Il est 10 h. et toujours fermé !", ["Il est 10 h. et toujours fermé !"]),
        ("Sr. García fue muy amable. La espera, larga.",
         ["Sr. García fue muy amable.", "La espera, larga."]),
        ("Hr. Müller war freundlich, z. B. beim Formular. Danke!",
         ["Hr. Müller war freundlich, z. B. beim Formular.", "Danke!"]),
        ("Dhr. Jansen hielp ons snel. Top!", ["Dhr. Jansen hielp ons snel.", "Top!"]),
        ("Jono oli pitkä esim. tunnin verran. Kiitos silti.",
         ["Jono oli pitkä esim. tunnin verran.", "Kiitos silti."]),
        ("Vaste. Prix 3.50 euros. Super", ["Vaste.", "Prix 3.50 euros.", "Super"]),
        # Social posts without punctuation: line breaks, or one segment.
        ("Bus 12 en retard encore 20 min sérieux\nchauffeur sympa par contre",
         ["Bus 12 en retard encore 20 min sérieux", "chauffeur sympa par contre"]),
        ("lol the app crashed again smh", ["lol the app crashed again smh"]),
        ("Great!!! Will come back", ["Great!!!", "Will come back"]),
    ],
)
def test_segments(text: str, expected: list[str]) -> None:
    assert [s.text for s in split_segments(text)] == expected


def test_spans_point_into_the_text() -> None:
    text = "  Accueil parfait.   Mais 2 heures d'attente. "
    for seg in split_segments(text):
        assert text[seg.start : seg.end] == seg.text


@pytest.mark.parametrize(("text", "pieces"), [
    ("Pour inscrire ma fille à la cantine il faut trois formulaires.", 1),
    ("The men at the desk were patient with everyone in the queue.", 1),
    ("Il personale è gentile, ma l'attesa è stata lunghissima.", 2),
    ("Personalen var trevlig, men väntetiden var alldeles för lång.", 2),
])
def test_words_that_only_sometimes_mean_but(text: str, pieces: int) -> None:
    assert len(split_segments(text)) == pieces


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Le personnel est aimable; l'attente est interminable.",
         ["Le personnel est aimable;", "l'attente est interminable."]),
        ("Si le personnel est aimable, l'attente est vraiment trop longue.",
         ["Si le personnel est aimable,", "l'attente est vraiment trop longue."]),
        ("C'est très bien même si l'attente était longue.",
         ["C'est très bien", "même si l'attente était longue."]),
        ("Although the staff were kind, we waited two hours.",
         ["Although the staff were kind,", "we waited two hours."]),
        ("El personal fue amable aunque esperamos mucho tiempo.",
         ["El personal fue amable", "aunque esperamos mucho tiempo."]),
        ("Das Personal war freundlich, obwohl wir lange gewartet haben.",
         ["Das Personal war freundlich", "obwohl wir lange gewartet haben."]),
        ("Het personeel was vriendelijk hoewel we lang moesten wachten.",
         ["Het personeel was vriendelijk", "hoewel we lang moesten wachten."]),
        ("Henkilökunta oli ystävällistä, vaikka jonotimme kaksi tuntia.",
         ["Henkilökunta oli ystävällistä", "vaikka jonotimme kaksi tuntia."]),
        ("Il personale è gentile anche se l'attesa è lunga.",
         ["Il personale è gentile", "anche se l'attesa è lunga."]),
        ("O atendimento foi simpático embora a espera fosse longa.",
         ["O atendimento foi simpático", "embora a espera fosse longa."]),
        # Short pieces stay whole: "si aimable" is no condition.
        ("Si aimable, merci.", ["Si aimable, merci."]),
    ],
)
def test_clauses_are_cut_at_semicolons_and_concessive_constructions(
    text: str, expected: list[str],
) -> None:
    assert [s.text for s in split_segments(text)] == expected
