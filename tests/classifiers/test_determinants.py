from __future__ import annotations

from pathlib import Path

import pytest

from ecoute.domain import DETERMINANTS
from ecoute.classifiers.determinants import fold, load_lexicon
from ecoute.errors import ConfigError


@pytest.fixture(scope="module")
def lexicon():  # type: ignore[no-untyped-def]
    return load_lexicon()


@pytest.mark.parametrize(
    ("text", "determinant"),
    [
        ("Impossible de joindre la mairie", "accessibility"),
        ("Les horaires d'ouverture ne sont pas pratiques", "accessibility"),
        ("Toujours aucune réponse à mon courrier", "responsiveness"),
        ("Agent très aimable", "courtesy"),
        ("Zéér onvriendelijk personeel", "courtesy"),
        ("Elle a pris le temps d'écouter ma situation", "personalization"),
        ("45 minutes d'attente au guichet", "waiting_time"),
        ("Lange wachttijd.", "waiting_time"),
        ("Renvoyé d'un service à l'autre", "transfer_efficiency"),
        ("I keep getting the run around", "transfer_efficiency"),
        ("Ma réclamation a été ignorée", "complaints_management"),
        ("tuvimos que reclamar el 20%", "complaints_management"),
        ("Rollaattorilla on hankala kulkea", "accessibility"),
    ],
)
def test_lexicon_finds_determinants(lexicon, text: str, determinant: str) -> None:  # type: ignore[no-untyped-def]
    assert determinant in lexicon.match(text)


def test_lexicon_ignores_unrelated_text(lexicon) -> None:  # type: ignore[no-untyped-def]
    assert lexicon.match("La cantine propose des légumes bio le mardi") == {}


def test_accents_and_case_do_not_matter(lexicon) -> None:  # type: ignore[no-untyped-def]
    assert "courtesy" in lexicon.match("PERSONNEL TRES AIMABLE")
    assert fold("Réclamation") == "reclamation"


def test_every_determinant_is_shipped_with_french_and_english(lexicon) -> None:  # type: ignore[no-untyped-def]
    assert tuple(lexicon.determinants) == DETERMINANTS
    for det in lexicon.determinants.values():
        assert det.keywords.get("fr") and det.keywords.get("en")
        assert det.label("fr") and det.label("en")


def test_broken_lexicon_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "lex.toml"
    path.write_text("[courtesy]\nlabel = {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="accessibility"):
        load_lexicon(path)
    path.write_text("not = [toml", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        load_lexicon(path)
