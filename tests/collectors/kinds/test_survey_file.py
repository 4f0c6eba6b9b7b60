"""Survey exports: real Qualtrics, LimeSurvey and KoBo files, ratings and NPS."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.files.reading import SourceFile, file_sha256, read_rows
from ecoute.collectors.service import add_source, run_source
from ecoute.collectors.kinds.survey_file import SurveyFileCollector
from ecoute.collectors.kinds.survey_file_layouts import Response, table_responses
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.models import RunStatus
from tests.collectors.file_helpers import collect, items, rejected, stored
from tests.conftest import TEST_DATA, needs_test_data

SURVEYS = TEST_DATA / "surveys"
LIME = SURVEYS / "limesurvey_limonaid/testing"


@needs_test_data
@pytest.mark.parametrize("name,fmt,key", [("sample.csv", "qualtrics", "QID2_TEXT"),
                                          ("sample_legacy.csv", "qualtrics_legacy", "Q2")])
def test_qualtrics_exports_give_the_one_free_text_answer(name: str, fmt: str, key: str) -> None:
    out = collect("survey_file", path=str(SURVEYS / "qualtrics_qualtRics" / name))
    [item] = out
    assert item.text == "Hello World!"  # type: ignore[union-attr]
    assert item.title == "This is a free text question."  # type: ignore[union-attr]
    assert item.external_id == f"R_2YPOQ602ER1jkf1:{key}"  # type: ignore[union-attr]
    assert item.extra["question_key"] == key and item.extra["format"] == fmt  # type: ignore[union-attr]
    assert item.published_at.isoformat() == "2017-07-18T06:28:48+00:00"  # type: ignore[union-attr]


@needs_test_data
@pytest.mark.parametrize("name,count", [("survey_100001_R_data_file.csv", 3),
                                        ("survey_998192_R_data_file.csv", 7)])
def test_limesurvey_response_count_and_long_headers(name: str, count: int) -> None:
    path = LIME / name
    source = SourceFile(path, file_sha256(path), path.stat().st_size)
    options = SurveyFileCollector.Options(path=str(path))
    layout, responses = table_responses(source, read_rows(source, options), "auto")
    found = list(responses)
    assert layout.format == "limesurvey" and all(isinstance(r, Response) for r in found)
    assert len(found) == count
    assert next(iter(layout.columns)) == "Response ID"  # the BOM is gone
    with path.open(encoding="utf-8-sig", newline="") as fh:
        expected = [row[0] for row in csv.reader(fh) if row][1:]
    assert [r.answers["Response ID"] for r in found] == [e for e in expected if e]


@needs_test_data
def test_limesurvey_mapped_open_question() -> None:
    out = collect("survey_file", path=str(LIME / "survey_998192_R_data_file.csv"),
                  text_columns=["Please  describe your current mood."])
    assert sorted(i.text for i in items(out)) == ["4747647", "dgggsdfs"]
    assert {i.extra["respondent_id"] for i in items(out)} == {"4", "9"}


@needs_test_data
def test_kobo_submissions_end_to_end(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    shutil.copy(SURVEYS / "kobotoolbox_formpack/customer_satisfaction/v1.json",
                tmp_path / "customer_satisfaction.json")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="kobo", kind="survey_file",
                               options={"path": str(tmp_path)}).id
    report = run_source(factory, settings, source_id)
    assert report.status == RunStatus.SUCCESS and report.new == 3
    found, quarantined = stored(factory)
    assert not quarantined
    by_text = {i.text: i for i in found}
    assert set(by_text) == {"Felipes", "Dunkin Donuts", "McDonalds"}
    assert by_text["Felipes"].rating_norm == 1.0 and by_text["McDonalds"].rating_norm == 0.0
    assert by_text["Felipes"].rating_scale == "yes/no" and by_text["Felipes"].channel == "survey"
    assert by_text["Felipes"].extra["question"] == "Restaurant name"
    assert by_text["Felipes"].published_at.date().isoformat() == "2016-04-01"
    (tmp_path / "customer_satisfaction.json").rename(tmp_path / "renamed.json")
    again = run_source(factory, settings, source_id)
    assert again.new == 0 and again.fetched == 0  # same content: not read again


def test_several_open_answers_ratings_and_nps(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(
        "id;date;Note accueil;Recommanderiez-vous la mairie ?;Qu'avez-vous apprécié ?;"
        "Que faut-il améliorer ?;Site\n"
        "r1;02/03/2024 10:00;5;10;L'accueil était chaleureux;Rien;Annexe Nord\n"
        "r2;02/03/2024 11:00;2;3;Pas grand-chose;Quarante minutes d'attente au guichet;Centre\n"
        "r3;03/03/2024 09:00;4;8;;;Centre\n", encoding="cp1252")
    out = collect("survey_file", path=str(tmp_path / "export.csv"),
                  ratings={"Recommanderiez-vous la mairie ?": "nps", "Note accueil": "1-5"},
                  site_column="Site")
    found = items(out)
    assert [(i.external_id, i.text) for i in found] == [
        ("r1:Qu'avez-vous apprécié ?", "L'accueil était chaleureux"),
        ("r2:Qu'avez-vous apprécié ?", "Pas grand-chose"),
        ("r2:Que faut-il améliorer ?", "Quarante minutes d'attente au guichet"),
        ("r3:ratings", "Recommanderiez-vous la mairie ?: 8; Note accueil: 4"),
    ]
    first = found[0]
    assert (first.rating_value, first.rating_scale, first.rating_norm) == (10, "0-10", 1.0)
    assert first.extra["nps_category"] == "promoter" and first.site == "Annexe Nord"
    assert first.extra["ratings"]["Note accueil"]["norm"] == 1.0
    assert found[1].extra["nps_category"] == "detractor"
    assert found[1].extra["respondent_id"] == found[2].extra["respondent_id"] == "r2"
    assert found[3].extra["rating_only"] and found[3].extra["nps_category"] == "passive"


def test_google_forms_french_export(tmp_path: Path) -> None:
    (tmp_path / "form.csv").write_text(
        "Horodateur,Adresse e-mail,Votre commentaire\n"
        "2024/03/02 10:00:00,a@b.fr,Horaires d'ouverture trop courts le samedi\n"
        "2024/03/02 11:00:00,c@d.fr,Personnel très aimable et efficace\n", encoding="utf-8-sig")
    found = items(collect("survey_file", path=str(tmp_path / "form.csv")))
    assert [i.text for i in found] == ["Horaires d'ouverture trop courts le samedi",
                                      "Personnel très aimable et efficace"]
    assert found[0].extra["format"] == "google_forms" and found[0].extra["respondent_id"]
    assert found[0].published_at.isoformat() == "2024-03-02T09:00:00+00:00"
    again = items(collect("survey_file", path=str(tmp_path / "form.csv")))
    assert [i.external_id for i in again] == [i.external_id for i in found]  # stable ids


def test_kobo_xlsx_export_with_group_paths(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["start", "visite/service", "visite/commentaire", "_uuid", "_submission_time"])
    sheet.append(["2024-01-01", "état civil", "Très longue attente, personne pour orienter",
                  "u-1", "2024-01-05T10:00:00"])
    book.save(tmp_path / "kobo.xlsx")
    [item] = items(collect("survey_file", path=str(tmp_path / "kobo.xlsx"),
                           text_columns=["commentaire"]))
    assert item.external_id == "u-1:visite/commentaire" and item.extra["format"] == "kobo"
    assert item.title == "commentaire"


def test_missing_mapped_column_names_it_and_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,comment\n1,Très bien merci\n")
    out = collect("survey_file", path=str(tmp_path / "a.csv"), text_columns=["remarks"])
    [bad] = rejected(out)
    assert "a.csv" in bad.reason and "'remarks'" in bad.reason and "comment" in bad.reason


def test_broken_xlsx_and_zip_bomb_go_to_quarantine_others_land(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["id", "commentaire"])
    book.active.append(["1", "Accueil agréable mais trop d'attente"])
    book.save(tmp_path / "good.xlsx")
    data = (tmp_path / "good.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])
    import zipfile

    with zipfile.ZipFile(tmp_path / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<a/>" * (2 * 1024 * 1024))
    out = collect("survey_file", path=str(tmp_path), pattern="*.xlsx",
                  text_columns=["commentaire"])
    assert [i.text for i in items(out)] == ["Accueil agréable mais trop d'attente"]
    reasons = {r.position: r.reason for r in rejected(out)}
    assert set(reasons) == {"cut.xlsx", "bomb.xlsx"}
    assert "truncated" in reasons["cut.xlsx"] and "zip bomb" in reasons["bomb.xlsx"]


def test_an_edited_rating_updates_the_answer(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    export = ("id;date;Note accueil;Qu'avez-vous apprécié ?\n"
              "r1;02/03/2024 10:00;5;L'accueil était chaleureux\n"
              "r2;02/03/2024 11:00;2;Pas grand-chose\n")
    (folder / "v1.csv").write_text(export, encoding="utf-8")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="survey", kind="survey_file",
                               options={"path": str(folder),
                                        "ratings": {"Note accueil": "1-5"}}).id
    assert run_source(factory, settings, source_id).new == 2
    # r2 edited the rating of the submission, not the text.
    (folder / "v2.csv").write_text(export.replace(";2;Pas", ";3;Pas"), encoding="utf-8")
    report = run_source(factory, settings, source_id)
    assert (report.new, report.updated, report.duplicate) == (0, 1, 1)
    found, _quarantined = stored(factory)
    assert [(i.external_id, i.rating_value) for i in found] == [
        ("r1:Qu'avez-vous apprécié ?", 5), ("r2:Qu'avez-vous apprécié ?", 3)]
    assert len(found[1].extra["versions"]) == 1


def test_google_forms_english_download_gives_the_timestamp(tmp_path: Path) -> None:
    # The form's own "Download responses (.csv)": 12-hour clock and the owner's GMT offset.
    (tmp_path / "form.csv").write_text(
        '"Timestamp","Email Address","Any comments?"\n'
        '"2024/03/02 2:11:26 PM GMT+1","a@b.org","Opening hours are far too short on Saturday"\n'
        '"2024/03/04 9:05:00 AM GMT+1","c@d.org","Very kind and efficient staff at the desk"\n',
        encoding="utf-8")
    found = items(collect("survey_file", path=str(tmp_path / "form.csv")))
    assert found[0].extra["format"] == "google_forms"
    assert [i.published_at.isoformat() for i in found] == [
        "2024-03-02T13:11:26+00:00", "2024-03-04T08:05:00+00:00"]


def test_export_without_free_text_says_so_in_the_run_report(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    # A LimeSurvey response export of closed questions only (answer codes, LimeSurvey's default).
    (tmp_path / "results.csv").write_text(
        "id,submitdate,lastpage,startlanguage,seed,Which service did you visit?,"
        "Did you get an answer?\n"
        "1,2024-03-02 10:00:00,2,en,123,A1,Y\n"
        "2,2024-03-02 11:00:00,2,en,456,A3,N\n"
        "3,2024-03-02 11:30:00,2,en,789,A1,Y\n", encoding="utf-8")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="lime", kind="survey_file",
                               options={"path": str(tmp_path / "results.csv")}).id
    for dry_run in (True, False):
        report = run_source(factory, settings, source_id, dry_run=dry_run)
        assert report.status == RunStatus.SUCCESS and report.new == 0 and not report.preview
        [warning] = report.warnings
        assert "results.csv: no free-text answer column" in warning
        assert "nothing is collected" in warning and "text_columns" in warning
