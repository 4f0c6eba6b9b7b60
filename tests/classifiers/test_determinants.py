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


@pytest.mark.parametrize(
    ("text", "lang", "determinant"),
    [
        # Cues of one language never fire inside words of another, once the language is known.
        ("Snellmaninkatu 5 edessä on kuoppa", "fi", "responsiveness"),
        ("Lentää roskia pitkin katua", "fi", "waiting_time"),
        ("Nettisivuilla ei ole tietoa", "fi", "courtesy"),
        # Words used in another sense than the determinant's.
        ("I opened an account and the account was closed by the bank", "en", "accessibility"),
        ("My loan was transferred to another servicer", "en", "transfer_efficiency"),
        ("Ce contrat répond à nos attentes", "fr", "responsiveness"),
        ("Ce contrat répond à nos attentes", "fr", "waiting_time"),
        ("On m'a prêté un véhicule de courtoisie", "fr", "courtesy"),
        ("The credit bureau claims that I owe them", "en", "complaints_management"),
        ("Bonne bediening", "nl", "courtesy"),
    ],
)
def test_cues_count_only_in_their_sense_and_language(
    lexicon, text: str, lang: str, determinant: str,  # type: ignore[no-untyped-def]
) -> None:
    assert determinant not in lexicon.match(text, lang)


@pytest.mark.parametrize(
    ("text", "lang", "determinant"),
    [
        ("Snel bediend, heel vriendelijk", "nl", "waiting_time"),
        ("The agent transferred me to another department", "en", "transfer_efficiency"),
        ("45 minutes d'attente au guichet", "fr", "waiting_time"),
        ("La mairie était fermée à 16 h", "fr", "accessibility"),
        ("The office was closed on Monday", "en", "accessibility"),
        ("Henkilökunta oli ystävällistä", "fi", "courtesy"),
        # Unknown language: every language's cues are tried.
        ("Lange wachttijd", None, "waiting_time"),
        ("Lange wachttijd", "pt", "waiting_time"),
    ],
)
def test_cues_still_count_in_their_sense(
    lexicon, text: str, lang: str | None, determinant: str,  # type: ignore[no-untyped-def]
) -> None:
    assert determinant in lexicon.match(text, lang)


def test_a_cue_never_starts_or_ends_inside_a_word(lexicon) -> None:  # type: ignore[no-untyped-def]
    assert "waiting_time" not in lexicon.match("Le talent du chef", "fr")  # "lent"
    assert "courtesy" not in lexicon.match("Le repoli du parquet", "fr")  # "poli"
    assert "courtesy" in lexicon.match("Un agent poli", "fr")


def test_cues_are_named_and_choices_mute_or_weaken_them(lexicon) -> None:  # type: ignore[no-untyped-def]
    text = "Une réponse et un agent aimable"
    cues = lexicon.cues(text, "fr")
    assert ("responsiveness", "fr:réponse*") in cues and ("courtesy", "fr:aimable*") in cues
    chosen = lexicon.with_choices(muted=[("courtesy", "fr:aimable*")],
                                  weak=[("responsiveness", "fr:réponse*")])
    assert chosen.match(text, "fr") == {}
    assert chosen.match(text, "fr", weak=True) == {"responsiveness": ["reponse"]}
    again = lexicon.with_stored_choices(chosen.choices())
    assert (again.muted, again.weak) == (chosen.muted, chosen.weak)


def test_exceptions_of_the_lexicon_file_are_read(tmp_path: Path) -> None:
    import tomllib

    from ecoute.config import settings as _settings  # noqa: F401 (the package data lives here)

    shipped = Path(__file__).parents[2] / "ecoute" / "config" / "determinants.toml"
    data = tomllib.loads(shipped.read_text(encoding="utf-8"))
    data["courtesy"]["except"] = {"fr": ["gentil* organisateur*"]}
    lines = []
    for name, entry in data.items():
        if name == "version":
            lines.append(f"version = {entry}")
            continue
        lines.append(f"[{name}]")
        for key in ("label", "description"):
            pairs = ", ".join(f'{k} = "{v}"' for k, v in entry[key].items())
            lines.append(f"{key} = {{ {pairs} }}")
        for table in ("keywords", "except"):
            if table in entry:
                lines.append(f"[{name}.{table}]")
                for lang, words in entry[table].items():
                    quoted = ", ".join('"' + w.replace('"', '\\"') + '"' for w in words)
                    lines.append(f"{lang} = [{quoted}]")
    path = tmp_path / "lex.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    edited = load_lexicon(path)
    assert "courtesy" not in edited.match("Merci aux gentils organisateurs", "fr")
    assert "courtesy" in edited.match("Un agent gentil", "fr")
