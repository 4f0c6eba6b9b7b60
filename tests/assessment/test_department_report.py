"""The monthly department report: its figures, the workbook's cells and the escaped page."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.department_report import (
    ALL,
    NO_DETERMINANT,
    DepartmentReport,
    department_report,
    parse_month,
)
from ecoute.assessment.department_report_files import to_html, to_xlsx
from ecoute.config.settings import Settings
from ecoute.errors import InvalidRequest
from ecoute.store.authorities import ensure_authority, get_authority
from ecoute.store.db import session_scope
from ecoute.store.followups import change_followup, find_followup
from ecoute.store.models import Item
from ecoute.store.routing import RuleCriteria, add_rule
from tests.helpers.feedback import classify, push

RECORDS = [
    {"external_id": "pothole", "text": "Trottoir défoncé. Attente de 3 semaines.",
     "channel": "complaint", "published_at": "2026-11-02T09:00:00+01:00"},
    {"external_id": "script", "text": "Trottoir glissant <script>alert(1)</script>.",
     "channel": "complaint", "published_at": "2026-11-05T09:00:00+01:00"},
    {"external_id": "rude", "text": "Agent impoli.", "channel": "review",
     "published_at": "2026-11-10T09:00:00+01:00"},
    {"external_id": "kind", "text": "Personnel aimable.", "channel": "review",
     "published_at": "2026-11-12T09:00:00+01:00"},
    {"external_id": "october", "text": "Trottoir. Attente.", "channel": "complaint",
     "published_at": "2026-10-31T23:30:00+01:00"},
    # Still November in UTC, already December in Paris.
    {"external_id": "december", "text": "Trottoir. Attente.", "channel": "complaint",
     "published_at": "2026-11-30T23:30:00+00:00"},
]


@pytest.fixture
def report_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"followup_max_age_days": 0})


def _month(factory: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        add_rule(session, valmont, "Voirie", RuleCriteria(keyword="trottoir"))
        add_rule(session, valmont, "Accueil", RuleCriteria(determinant="courtesy",
                                                           polarity="negative"))
    push(factory, settings, tmp_path / "in", RECORDS)
    classify(factory, settings)
    with session_scope(factory) as session:
        pothole = session.scalars(select(Item).where(Item.external_id == "pothole")).one()
        followup = find_followup(session, pothole.id)
        assert followup is not None
        change_followup(session, followup, {"status": "answered"}, actor="t",
                        now=datetime(2026, 11, 4, 15, tzinfo=timezone.utc))


@pytest.fixture
def report(factory: sessionmaker[Session], report_settings: Settings,
           tmp_path: Path) -> DepartmentReport:
    """The report of November 2026 (``_month``) as seen on 15 December."""
    _month(factory, report_settings, tmp_path)
    with session_scope(factory) as session:
        return department_report(session, get_authority(session, "valmont"), report_settings,
                                 parse_month("2026-11"), today=date(2026, 12, 15))


def test_figures_per_department_and_determinant(report: DepartmentReport) -> None:
    rows = {(r.department, r.determinant): r for r in report.rows}
    assert set(rows) == {("Voirie", "waiting_time"), ("Voirie", NO_DETERMINANT),
                         ("Accueil", "courtesy"), ("", "courtesy")}
    waiting = rows["Voirie", "waiting_time"]
    assert (waiting.received, waiting.negative, waiting.followups, waiting.answered,
            waiting.within_promise, waiting.median_days_to_answer) == (1, 1, 1, 1, 1, 2.0)
    assert waiting.examples == ["Attente de 3 semaines."]  # the sentence, not the whole text
    unknown = rows["Voirie", NO_DETERMINANT]
    assert (unknown.received, unknown.open, unknown.overdue) == (1, 1, 1)
    rude = rows["Accueil", "courtesy"]
    assert (rude.negative, rude.followups, rude.overdue) == (1, 1, 1)
    assert (rows["", "courtesy"].received, rows["", "courtesy"].followups) == (1, 0)
    voirie = report.departments[[d.department for d in report.departments].index("Voirie")]
    assert (voirie.received, voirie.followups, voirie.due, voirie.within_promise) == (2, 2, 2, 1)
    assert [d.department for d in report.departments] == ["Accueil", "Voirie", ""]
    total = report.authority_rows[-1]
    assert (total.determinant, total.received, total.followups) == (ALL, 4, 3)
    assert report.labels["waiting_time"] == "Temps d'attente"


def test_workbook_and_page(report: DepartmentReport) -> None:
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    assert book.sheetnames == ["Services", "Par déterminant", "Toute la collectivité"]
    services = book["Services"]
    assert [c.value for c in services[1]][:4] == ["Service", "Reçus", "Négatifs", "À traiter"]
    assert [c.value for c in services[3]][:5] == ["Voirie", 2, 1, 2, 1]
    assert services["A4"].value == "(sans service)"
    detail = book["Par déterminant"]
    lines = {(r[0].value, r[1].value): r for r in detail.iter_rows(min_row=2)}
    waiting = lines["Voirie", "Temps d'attente"]
    assert waiting[8].value == 2  # median working days to answer
    assert waiting[7].value == 1.0  # share within the promise
    assert waiting[-1].value == "Attente de 3 semaines."
    assert ("Voirie", "(aucun déterminant repéré)") in lines
    whole = book["Toute la collectivité"]
    assert [c.value for c in whole[whole.max_row]][:2] == ["Tous les déterminants", 4]

    page = to_html(report)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<h2>Voirie</h2>" in page and "Temps d&#x27;attente" in page
    assert "100%" in page and "sous 15 jours ouvrés" in page


@pytest.mark.parametrize("spec", ["2026-13", "nov", "2026-1", ""])
def test_months_are_year_and_month(spec: str) -> None:
    with pytest.raises(InvalidRequest, match="e.g. 2026-11"):
        parse_month(spec)
