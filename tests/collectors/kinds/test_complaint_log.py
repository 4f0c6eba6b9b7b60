"""Complaint registers: encodings, separators, mapping, quarantine, reruns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.domain import DeterminantMention, Prediction, SentimentScores
from ecoute.classifiers.pending import classify_pending
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.models import DailyRollup, Item, RunStatus
from tests.collectors.file_helpers import collect, items, rejected, stored

REGISTER = (
    "Numéro;Date de réception;Canal;Objet;Réclamation;Catégorie;Service;Statut;Date de réponse\n"
    "R-1;02/03/2024 09:15;courrier;Attente;\"Une heure d'attente,\nsans explication.\";"
    "Délais;État civil;clos;05/03/2024 09:15\n"
    "R-2;03/03/2024;courriel;Accueil;Agent très désagréable au guichet;Accueil;Urbanisme;"
    "en cours;\n"
    "R-3;04/03/2024;téléphone;Vide;;Divers;Urbanisme;ouvert;\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
def test_register_in_any_usual_encoding(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "reg.csv").write_text(REGISTER, encoding=encoding)
    out = collect("complaint_log", path=str(tmp_path / "reg.csv"))
    first, second = items(out)
    assert first.external_id == "R-1" and first.text == "Une heure d'attente,\nsans explication."
    assert first.title == "Attente" and first.department == "État civil"
    assert first.published_at.isoformat() == "2024-03-02T08:15:00+00:00"
    assert first.extra["status"] == "clos" and first.extra["days_to_respond"] == 3.0
    assert first.extra["reported_channel"] == "courrier" and first.extra["category"] == "Délais"
    assert second.extra["line"] == 4 and "days_to_respond" not in second.extra
    [empty] = rejected(out)
    assert empty.position == "reg.csv:5" and "text is empty" in empty.reason


def test_handling_dates_are_typed_where_the_register_tracks_them(tmp_path: Path) -> None:
    (tmp_path / "reg.csv").write_text(
        "Numéro;Date de réception;Réclamation;Statut;Date de réponse;Date de clôture\n"
        "A;02/03/2024 09:00;Attente;en cours;05/03/2024 10:00;11/03/2024 12:00\n"
        "B;02/03/2024;Accueil;clos;06/03/2024;\n"
        "C;03/03/2024;Bruit;clos;;08/03/2024\n"
        "D;04/03/2024;Travaux;ouvert;;\n", encoding="utf-8")
    found = {i.external_id: i for i in items(collect("complaint_log",
                                                     path=str(tmp_path / "reg.csv")))}
    when = {k: tuple(d and d.isoformat() for d in (i.received_at, i.answered_at, i.closed_at))
            for k, i in found.items()}
    assert when == {
        "A": ("2024-03-02T08:00:00+00:00", "2024-03-05T09:00:00+00:00",
              "2024-03-11T11:00:00+00:00"),
        # Closed by its status: the answer dates the closing.
        "B": ("2024-03-01T23:00:00+00:00", "2024-03-05T23:00:00+00:00",
              "2024-03-05T23:00:00+00:00"),
        # Closed without an answer date: the closing answered it.
        "C": ("2024-03-02T23:00:00+00:00", "2024-03-07T23:00:00+00:00",
              "2024-03-07T23:00:00+00:00"),
        "D": ("2024-03-03T23:00:00+00:00", None, None)}
    assert found["A"].extra["closed_date"] == "2024-03-11T11:00:00+00:00"
    assert found["C"].extra["days_to_respond"] == 5.0
    # A register that says nothing of handling makes no cases.
    (tmp_path / "plain.csv").write_text("id;date;texte\nP;02/03/2024;Bruit\n", encoding="utf-8")
    [plain] = items(collect("complaint_log", path=str(tmp_path / "plain.csv")))
    assert plain.published_at and (plain.received_at, plain.answered_at) == (None, None)


def test_mapping_and_missing_column(tmp_path: Path) -> None:
    (tmp_path / "reg.csv").write_text("ref\twhen\tbody\nA\t2024-01-02\tBroken lift at the "
                                      "library\n")
    [item] = items(collect("complaint_log", path=str(tmp_path / "reg.csv"),
                           columns={"id": "ref", "received": "when", "text": "body"}))
    assert item.external_id == "A"
    assert item.published_at.isoformat() == "2024-01-01T23:00:00+00:00"  # Paris midnight
    out = collect("complaint_log", path=str(tmp_path / "reg.csv"), columns={"site": "Agence"})
    [bad] = rejected(out)
    assert "reg.csv" in bad.reason and "'Agence'" in bad.reason and "missing" in bad.reason


def test_json_ndjson_and_xlsx_registers(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('[{"id": 7, "texte": "Poubelles non ramassées", '
                                     '"statut": "ouvert"}]')
    (tmp_path / "b.ndjson").write_text('{"id": "n1", "text": "Trottoir dangereux"}\n'
                                       '{"id": "n2", "text": "Éclairage en panne"}\n')
    book = openpyxl.Workbook()
    book.active.append(["ID", "Description", "Date"])
    book.active.append(["x1", "Piscine fermée sans préavis", "2024-02-01"])
    book.save(tmp_path / "c.xlsx")
    found = items(collect("complaint_log", path=str(tmp_path)))
    assert sorted((i.external_id, i.text) for i in found) == [
        ("7", "Poubelles non ramassées"), ("n1", "Trottoir dangereux"),
        ("n2", "Éclairage en panne"), ("x1", "Piscine fermée sans préavis")]


def test_huge_field_and_bad_bytes_are_quarantined_nothing_lost_or_duplicated(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    with (folder / "reg.csv").open("wb") as fh:
        fh.write(b"id,text\n1,Premier signalement\n2,\"")
        block = b"y" * (1024 * 1024)
        for _ in range(100):  # a 100 MB single field
            fh.write(block)
        fh.write(b"\"\n3,Troisi\xe8me en cp1252\n4,Quatri\xc3\xa8me\n5,Dernier\n")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="reg", kind="complaint_log",
                               options={"path": str(folder)}).id
    report = run_source(factory, settings, source_id)
    assert report.status == RunStatus.PARTIAL and report.error is None
    found, quarantined = stored(factory)
    assert [i.external_id for i in found] == ["1", "4", "5"]
    assert [(q.position, q.error_class) for q in quarantined] == [
        ("reg.csv:3", "ParseError"), ("reg.csv:4", "ParseError")]
    assert "longer than" in quarantined[0].message and "utf-8" in quarantined[1].message
    (folder / "reg.csv").touch()
    again = run_source(factory, settings, source_id)
    assert again.new == 0 and again.quarantined == 0
    assert [len(x) for x in stored(factory)] == [3, 2]


def _register_folder(factory: sessionmaker[Session], tmp_path: Path, first: str
                     ) -> tuple[Path, int]:
    """A watched folder holding REGISTER as ``first``, and its complaint_log source."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / first).write_text(REGISTER, encoding="utf-8")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="reg", kind="complaint_log",
                               options={"path": str(folder)}).id
    return folder, source_id


def test_a_changed_status_updates_the_complaint(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    folder, source_id = _register_folder(factory, tmp_path, "2024-03-04.csv")
    assert run_source(factory, settings, source_id).new == 2
    # The next export: R-2 answered and closed, text untouched; R-1 exactly as before.
    answered = REGISTER.replace("Urbanisme;en cours;\n", "Urbanisme;clos;06/03/2024\n", 1)
    assert answered != REGISTER
    (folder / "2024-03-07.csv").write_text(answered, encoding="utf-8")
    report = run_source(factory, settings, source_id)
    assert (report.new, report.updated, report.duplicate) == (0, 1, 1)
    found, _quarantined = stored(factory)
    assert [i.external_id for i in found] == ["R-1", "R-2"]
    first, second = found
    assert second.extra["status"] == "clos" and second.extra["days_to_respond"] == 3.0
    assert len(second.extra["versions"]) == 1 and "versions" not in first.extra
    assert second.text == "Agent très désagréable au guichet"
    # The same register once more: nothing changes.
    (folder / "2024-03-08.csv").write_text(answered + "\n", encoding="utf-8")
    again = run_source(factory, settings, source_id)
    assert (again.new, again.updated, again.duplicate) == (0, 0, 2)
    assert len(stored(factory)[0][1].extra["versions"]) == 1


class _Negative:
    """Every complaint is negative and about courtesy (enough to fill the rollups)."""

    name = "fixed"
    version = "1"

    def predict(
        self, texts: Sequence[str], channels: Sequence[str | None] | None = None,
    ) -> list[Prediction]:
        return [Prediction(sentiment=SentimentScores(negative=0.8, neutral=0.1, positive=0.1),
                           determinants=[DeterminantMention("courtesy", "negative", 0.9, 0,
                                                            len(t))]) for t in texts]


def _state(factory: sessionmaker[Session]) -> tuple[dict[str, str | None], dict[tuple, int]]:
    with session_scope(factory) as session:
        versions = {i.external_id: i.classified_version for i in session.scalars(select(Item))}
        rollups: dict[tuple, int] = {}
        for r in session.scalars(select(DailyRollup)):
            if r.pos + r.neg + r.neu:
                rollups[(r.day.isoformat(), r.determinant)] = r.pos + r.neg + r.neu
        return versions, rollups


def test_a_new_status_keeps_the_classification_and_a_new_text_drops_it(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    folder, source_id = _register_folder(factory, tmp_path, "1.csv")
    run_source(factory, settings, source_id)
    assert classify_pending(factory, _Negative()).classified == 2
    versions, rollups = _state(factory)
    assert rollups == {("2024-03-02", "_overall"): 1, ("2024-03-02", "courtesy"): 1,
                       ("2024-03-03", "_overall"): 1, ("2024-03-03", "courtesy"): 1}
    # R-2 closed, and its reception date corrected: same text, so no new classification,
    # and it moves to its new day in the rollups.
    edited = REGISTER.replace("Urbanisme;en cours;\n", "Urbanisme;clos;06/03/2024\n", 1)
    edited = edited.replace("R-2;03/03/2024;", "R-2;01/03/2024;", 1)
    (folder / "2.csv").write_text(edited, encoding="utf-8")
    assert run_source(factory, settings, source_id).updated == 1
    assert classify_pending(factory, _Negative()).classified == 0
    now_versions, rollups = _state(factory)
    assert now_versions == versions
    assert rollups == {("2024-03-02", "_overall"): 1, ("2024-03-02", "courtesy"): 1,
                       ("2024-03-01", "_overall"): 1, ("2024-03-01", "courtesy"): 1}
    # A new text is read again.
    (folder / "3.csv").write_text(edited.replace("très désagréable", "désagréable"),
                                  encoding="utf-8")
    assert run_source(factory, settings, source_id).updated == 1
    versions, rollups = _state(factory)
    assert versions["R-2"] is None and versions["R-1"] is not None
    assert rollups == {("2024-03-02", "_overall"): 1, ("2024-03-02", "courtesy"): 1}
    assert classify_pending(factory, _Negative()).classified == 1
