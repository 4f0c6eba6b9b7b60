"""Mystery-visit grids: wide and long layouts, determinant mapping, bad scores."""

from __future__ import annotations

from pathlib import Path

import openpyxl

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
        ("V1:Délai d'attente", "Délai d'attente : 25 minutes avant d'être reçu", 0.0),
        ("V1:Amabilité de l'agent", "Amabilité de l'agent", 1.0),
        ("V2:Délai d'attente", "Délai d'attente", 1.0),
    ]
    first = found[0]
    assert first.channel == "audit" and first.site == "Mairie annexe"
    assert first.extra["determinant"] == "waiting_time" and first.extra["audit_channel"] == "visite"
    assert first.rating_scale == "yes/no" and first.published_at.date().isoformat() == "2024-03-11"


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
        ("A1:Délai d'attente", 8, "waiting_time"), ("A1:Propreté", 5, None)]
    [bad] = rejected(out)
    assert bad.position == "g.csv:3" and "'12'" in bad.reason and "0-10" in bad.reason


def test_missing_criterion_column_is_named(tmp_path: Path) -> None:
    (tmp_path / "g.csv").write_text("Visite,Délai d'attente\nV1,oui\n")
    [bad] = rejected(collect("audit_grid", path=str(tmp_path / "g.csv"), criteria=CRITERIA))
    assert "g.csv" in bad.reason and "Amabilité de l'agent" in bad.reason
