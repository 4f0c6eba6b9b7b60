from __future__ import annotations

import time

import pytest

from ecoute.pii import MAX_CONFIRMATIONS
from ecoute.privacy import pseudonym, redact
from tests.helpers.redaction_set import HANDWRITTEN_PATH, kinds_in, load_set, score


@pytest.mark.parametrize(("text", "expected"), [
    ("Mon NIR 1 85 05 78 006 084 36 svp", "Mon NIR [NIR] svp"),
    ("dossier n° 2026-000123 du 12/03/2026 à 14h30, 45 € pour 30 minutes",
     "dossier n° 2026-000123 du 12/03/2026 à 14h30, 45 € pour 30 minutes"),
    ("Reçue par Mme Martine Leroy puis M. Dupont", "Reçue par Mme [NAME] puis M. [NAME]"),
    ("Merci.\nCordialement,\nJean Dupont", "Merci.\nCordialement,\n[NAME]"),
    ("Best regards, John Smith", "Best regards, [NAME]"),
    ("Madame la Maire, Monsieur le Directeur", "Madame la Maire, Monsieur le Directeur"),
    ("IBAN FR76 3000 6000 0112 3456 7890 189 SVP", "IBAN [IBAN] SVP"),
    ("IBAN FR76 3000 6000 0112 3456 7890 188", "IBAN FR76 3000 6000 0112 3456 7890 188"),
    ("carte 4970 1012 3456 7893, SIRET 44306184100047", "carte [CARD], SIRET 44306184100047"),
    ("voiture AB-123-CD et 1234 AB 69", "voiture [PLATE] et [PLATE]"),
    ("06 12 34 56 78, +33 (0)1 23 45 67 89, (212) 555-0123, écrire à a.b@c.fr",
     "[PHONE], [PHONE], [PHONE], écrire à [EMAIL]"),
])
def test_typed_placeholders_and_survivors(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Merci d'avance.\nInès Boucher", "Merci d'avance.\n[NAME]"),
    ("Cdlt,\nMarc Aubert", "Cdlt,\n[NAME]"),
    ("Cheers,\nTom Fletcher", "Cheers,\n[NAME]"),
    ("Warm regards,\nDr. Anne Roy", "Warm regards,\nDr. [NAME]"),
    ("Mme veuve Janine Perrin", "Mme veuve [NAME]"),
    ("Please contact Mr de Souza", "Please contact Mr [NAME]"),
    ("L'agent, M. J.-P. Martin, m'a reçu", "L'agent, M. [NAME], m'a reçu"),
    ("present Cllr Hayes and Miss Carter", "present Cllr [NAME] and Miss [NAME]"),
    ("Mes coordonnées : Paul Girard, paul.girard@free.fr",
     "Mes coordonnées : [NAME], [EMAIL]"),
    ("Sent from my iPhone\nRuth Gallagher\n07723 456 189",
     "Sent from my iPhone\n[NAME]\n[PHONE]"),
    ("verbalisé rue du Docteur Roux, lycée Madame de Staël",
     "verbalisé rue du Docteur Roux, lycée Madame de Staël"),
    ("Merci.\nCordialement", "Merci.\nCordialement"),
    ("Merci\nLa Direction des Sports", "Merci\nLa Direction des Sports"),
    ("Lieu : salle des fêtes, 12 rue Pasteur", "Lieu : salle des fêtes, 12 rue Pasteur"),
])
def test_names_in_closings_contacts_and_titles(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_configured_patterns_get_their_own_placeholder() -> None:
    assert redact("client CL-004211, M. Durand", {"client": r"CL-\d{6}"}) == (
        "client [CLIENT], M. [NAME]")


def test_labelled_subset_meets_the_targets() -> None:
    """Every third sentence of the labelled set: recall ≥ 99 % and precision ≥ 97 % per kind,
    and no survivor masked (benchmarks/bench_redaction.py runs the whole set)."""
    scores = score(load_set()[::3])
    assert set(kinds_in(scores)) == {"EMAIL", "PHONE", "IBAN", "NIR", "CARD", "PLATE", "NAME"}
    for kind in kinds_in(scores):
        assert scores.recall(kind) >= 0.99, (kind, scores.misses)
        assert scores.precision(kind) >= 0.97, (kind, scores.false_alarms)
    assert not scores.survivors_lost


def test_handwritten_set_meets_the_targets() -> None:
    """The sentences written one by one (not from frames): recall ≥ 99 % and precision ≥ 97 %
    per kind, every kind present, and no survivor masked."""
    rows = load_set(HANDWRITTEN_PATH)
    assert len(rows) >= 200
    scores = score(rows)
    assert set(kinds_in(scores)) == {"EMAIL", "PHONE", "IBAN", "NIR", "CARD", "PLATE", "NAME"}
    for kind in kinds_in(scores):
        assert scores.recall(kind) >= 0.99, (kind, scores.misses)
        assert scores.precision(kind) >= 0.97, (kind, scores.false_alarms)
    assert scores.survivors >= 150 and not scores.survivors_lost, scores.survivors_lost


@pytest.mark.parametrize("unit", ["a", "1", "@", " ", "1 ", "a@", "é"])
def test_ten_megabytes_of_one_pattern_finish_quickly(unit: str) -> None:
    """The stdlib patterns this replaced took 24 s on 40,000 'a'."""
    text = unit * (10_000_000 // len(unit))
    start = time.perf_counter()
    redact(text)
    assert time.perf_counter() - start < 10


@pytest.mark.slow
@pytest.mark.parametrize("unit", ["a.a@a", "1234 ", "FR76 ", "Mme ", "AB-123-", "06 12 34 56 78 ",
                                  "Merci\n"])
def test_ten_megabytes_of_candidates_stay_linear(unit: str) -> None:
    text = unit * (10_000_000 // len(unit))
    start = time.perf_counter()
    redact(text)
    assert time.perf_counter() - start < 60


def test_past_the_confirmation_budget_candidates_are_masked_unchecked() -> None:
    text = "06 12 34 56 78 " * (MAX_CONFIRMATIONS + 5)
    assert "06 12" not in redact(text)


def test_pseudonyms_are_keyed() -> None:
    assert pseudonym(" Jean  Dupont", "k1") == pseudonym("jean dupont", "k1")
    assert pseudonym("Jean Dupont", "k1") != pseudonym("Jean Dupont", "k2")
    assert pseudonym("  ", "k1") is None
