"""``ecoute report departments``: the workbook and the page for the quality meeting."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from tests.cli.test_commands import ecoute
from tests.cli.test_routing import ENV, seed_month


def test_department_report_files(tmp_path: Path) -> None:
    seed_month(tmp_path)
    ecoute(tmp_path, "routing", "add", "Voirie", "--keyword", "trottoir", env=ENV)
    ecoute(tmp_path, "routing", "apply", "--since", "2026-11-01", env=ENV)
    done = ecoute(tmp_path, "report", "departments", "--month", "2026-11", env=ENV)
    assert "departments-2026-11.xlsx: 2 departments, 3 items received in 2026-11" in done.stdout
    book = load_workbook(tmp_path / "departments-2026-11.xlsx")
    rows = [[c.value for c in row] for row in book["Services"].iter_rows()]
    assert [r[:4] for r in rows[1:]] == [["Accueil", 2, 1, 1], ["Voirie", 1, 1, 1]]
    ecoute(tmp_path, "report", "departments", "--month", "2026-11", "--format", "html",
           "-o", "reunion.html", env=ENV)
    page = (tmp_path / "reunion.html").read_text(encoding="utf-8")
    assert "Agent impoli &lt;b&gt;vraiment&lt;/b&gt;." in page and "<b>" not in page
    wrong = ecoute(tmp_path, "report", "departments", "--month", "novembre", check=False)
    assert wrong.returncode == 1 and "e.g. 2026-11" in wrong.stderr
