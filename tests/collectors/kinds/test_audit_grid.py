"""Mystery-visit grids: wide and long layouts, determinant mapping, bad scores."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.domain import DeterminantMention, Prediction, SentimentScores, OVERALL, Polarity
from ecoute.classifiers.determinants import load_lexicon
from ecoute.classifiers.lexicon_tagger import LexiconSentenceClassifier
from ecoute.classifiers.transformer import TransformerSentiment
from ecoute.classifiers.pending import classify_pending
from ecoute.collectors.kinds.audit_grid import score_polarity
from ecoute.collectors.base import StatedVerdict
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.items import pending_count, pending_item_ids
from ecoute.store.models import DailyRollup, DeterminantTag, Item, Tagging
from ecoute.store.taggings import item_polarities, record_predictions
from tests.collectors.file_helpers import collect, items, rejected

CRITERIA = {"Délai d'attente": "waiting_time", "Amabilité de l'agent": "courtesy"}


def test_wide_xlsx_grid(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Visite", "Date", "Canal", "Site", "Délai d'attente",
                  "Délai d'attente - commentaire", "Amabilité de l'agent"])
    sheet.append(["V1", "12/03/2024", "visite", "Mairie annexe", "non",
                  "25 minutes avant d'être reçu", "oui"])
    sheet.append(["V2", "13/03/2024", "appel", "Standard", "oui", None, None])
    book.save(tmp_path / "grille.xlsx")
    found = items(collect("audit_grid", path=str(tmp_path / "grille.xlsx"), criteria=CRITERIA))
    assert [(i.external_id, i.text, i.rating_norm) for i in found] == [
        ("V1:Délai d'attente", "Délai d'attente : non", 0.0),
        ("V1:Délai d'attente:comment", "25 minutes avant d'être reçu", None),
        ("V1:Amabilité de l'agent", "Amabilité de l'agent : oui", 1.0),
        ("V2:Délai d'attente", "Délai d'attente : oui", 1.0),
    ]
    first, comment = found[0], found[1]
    assert first.channel == "audit" and first.site == "Mairie annexe"
    assert first.extra["determinant"] == "waiting_time" and first.extra["audit_channel"] == "visite"
    assert first.rating_scale == "yes/no" and first.published_at.date().isoformat() == "2024-03-11"
    # The score is the verdict; the comment is an opinion left to the classifier.
    assert first.verdict == StatedVerdict(Polarity.NEGATIVE, ("waiting_time",))
    assert found[2].verdict == StatedVerdict(Polarity.POSITIVE, ("courtesy",))
    assert comment.verdict is None and comment.title == "Délai d'attente"
    assert comment.channel == "audit" and comment.site == "Mairie annexe"


def test_long_csv_grid_with_bad_score(tmp_path: Path) -> None:
    (tmp_path / "g.csv").write_text(
        "audit;date;critère;note;commentaire\n"
        "A1;2024-03-12;Délai d'attente;8;Rapide\n"
        "A1;2024-03-12;Amabilité de l'agent;12;\n"
        "A1;2024-03-12;Propreté;5;\n")
    out = collect("audit_grid", path=str(tmp_path / "g.csv"), criteria=CRITERIA,
                  layout="long", scale="0-10")
    found = items(out)
    assert [(i.external_id, i.rating_value, i.extra["determinant"]) for i in found] == [
        ("A1:Délai d'attente", 8, "waiting_time"),
        ("A1:Délai d'attente:comment", None, "waiting_time"), ("A1:Propreté", 5, None)]
    assert [i.verdict for i in found] == [
        StatedVerdict(Polarity.POSITIVE, ("waiting_time",)), None,
        StatedVerdict(Polarity.NEUTRAL, ())]
    [bad] = rejected(out)
    assert bad.position == "g.csv:3" and "'12'" in bad.reason and "0-10" in bad.reason


def test_missing_criterion_column_is_named(tmp_path: Path) -> None:
    (tmp_path / "g.csv").write_text("Visite,Délai d'attente\nV1,oui\n")
    [bad] = rejected(collect("audit_grid", path=str(tmp_path / "g.csv"), criteria=CRITERIA))
    assert "g.csv" in bad.reason and "Amabilité de l'agent" in bad.reason


def test_score_polarity_follows_the_scale() -> None:
    assert [score_polarity(v, "1-5") for v in (1, 2, 3, 4, 5)] == [
        "negative", "negative", "neutral", "positive", "positive"]
    assert [score_polarity(v, "nps") for v in (6, 7, 9)] == ["negative", "neutral", "positive"]
    assert [score_polarity(v, "yes/no") for v in (0, 1)] == ["negative", "positive"]


def test_scores_become_audit_tags_that_the_classifier_leaves_alone(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path, tiny_model_dir: Path,
) -> None:
    """End to end: a scored criterion counts with its score's polarity in the rollups, whatever
    a model would read in its label; the auditor's comment is classified like any feedback."""
    (tmp_path / "grille.csv").write_text(
        "Visite;Date;Site;Délai d'attente;Accessibilité PMR;Commentaire\n"
        "V1;2024-03-12;Mairie;oui;non;Accueil chaleureux merci\n", encoding="utf-8")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="audits", kind="audit_grid",
                               options={"path": str(tmp_path / "grille.csv"), "criteria": {
                                   "Délai d'attente": "waiting_time",
                                   "Accessibilité PMR": "accessibility"}}).id
    assert run_source(factory, settings, source_id).new == 3
    classifier = LexiconSentenceClassifier(TransformerSentiment(tiny_model_dir), load_lexicon())
    assert classify_pending(factory, classifier).classified == 1  # the comment only
    with session_scope(factory) as session:
        tags = {(item.external_id, t.determinant, t.polarity, t.provenance) for t, item in
                session.execute(select(DeterminantTag, Item).join(
                    Item, Item.id == DeterminantTag.item_id))}
        sentiments = {i: s for i, s in session.execute(select(
            Item.external_id, Tagging.sentiment).join(Tagging, Tagging.item_id == Item.id))}
        totals = {d: (p, n) for d, p, n in session.execute(
            select(DailyRollup.determinant, func.sum(DailyRollup.pos),
                   func.sum(DailyRollup.neg)).group_by(DailyRollup.determinant))}
    assert ("V1:Délai d'attente", "waiting_time", "positive", "audit") in tags
    assert ("V1:Accessibilité PMR", "accessibility", "negative", "audit") in tags
    assert ("V1:comment", "courtesy", "positive", "model") in tags
    assert {t for t in tags if t[0] != "V1:comment"} == {
        ("V1:Délai d'attente", "waiting_time", "positive", "audit"),
        ("V1:Accessibilité PMR", "accessibility", "negative", "audit")}
    assert sentiments["V1:Délai d'attente"] == "positive"
    assert sentiments["V1:Accessibilité PMR"] == "negative"
    assert totals["waiting_time"] == (1, 0) and totals["accessibility"] == (0, 1)
    assert totals[OVERALL][0] >= 1 and totals[OVERALL][1] >= 1
    with session_scope(factory) as session:  # a new model version re-reads only the comment
        comment_id = session.scalars(select(Item.id).where(
            Item.external_id == "V1:comment")).one()
        assert pending_item_ids(session, "another@2", limit=10) == [comment_id]
        assert pending_count(session, "another@2") == 1


def test_classifier_and_rescore_keep_audit_tags_right(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    """A classifier run on an audited item keeps its audit tag winning; a corrected export
    (the same audit scored again) replaces the verdict and moves the rollups."""
    grid = tmp_path / "grille.csv"
    grid.write_text("Visite;Date;Délai d'attente\nV1;2024-03-12;non\n", encoding="utf-8")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="audits", kind="audit_grid",
                               options={"path": str(grid),
                                        "criteria": {"Délai d'attente": "waiting_time"}}).id
    run_source(factory, settings, source_id)
    with session_scope(factory) as session:
        item = session.scalars(select(Item)).one()
        mention = DeterminantMention("waiting_time", "positive", 0.9, 0, 5)
        record_predictions(session, [item], [Prediction(SentimentScores(0, 0, 1), [mention])],
                           model_name="m", model_version="m@1")
        assert item_polarities(session.scalars(select(DeterminantTag))) == {
            "waiting_time": "negative"}
    grid.write_text("Visite;Date;Délai d'attente\nV1;2024-03-12;oui\n", encoding="utf-8")
    assert run_source(factory, settings, source_id).updated == 1
    with session_scope(factory) as session:
        audit = session.scalars(select(DeterminantTag).where(
            DeterminantTag.provenance == "audit")).one()
        totals = session.execute(select(func.sum(DailyRollup.pos), func.sum(
            DailyRollup.neg)).where(DailyRollup.determinant == "waiting_time")).one()
    assert audit.polarity == "positive" and tuple(totals) == (1, 0)
