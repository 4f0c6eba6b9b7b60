"""The month's phone figures in the department report: facts per authority and department,
hand-computed, over the authority's local month, of that authority only."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.department_report import department_report
from ecoute.assessment.department_report_files import to_html, to_xlsx
from ecoute.config.settings import Settings
from ecoute.store.authorities import Places, ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import CallStat
from ecoute.store.sources import add_source

UTC = timezone.utc


def _row(authority_id: int, source_id: int, start: datetime, offered: int, answered: int,
         wait: float | None, level: float | None, department_id: int | None
         ) -> dict[str, Any]:
    return {"authority_id": authority_id, "source_id": source_id, "queue": "Standard",
            "interval_start": start, "interval_minutes": 30, "offered": offered,
            "answered": answered, "abandoned": offered - answered, "avg_wait_seconds": wait,
            "service_level": level, "department_id": department_id, "extra": {},
            "collected_at": start}


def test_the_department_report_carries_the_months_phone_facts(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    """March in Paris: État civil 30 calls (24 answered, 40 s, 75 %), Urbanisme 10 calls
    (5 answered, 100 s, 50 %); a call on 1 April 00:30 local and another authority's are
    not March's Valmont."""
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont", timezone="Europe/Paris")
        places = Places(valmont.id)
        civil = places.department_id(session, "État civil")
        urbanisme = places.department_id(session, "Urbanisme")
        acd = add_source(session, valmont.id, name="acd", kind="call_log", options={})
        other = ensure_authority(session, "autreville")
        other_acd = add_source(session, other.id, name="acd", kind="call_log", options={})
        session.execute(insert(CallStat), [
            _row(valmont.id, acd.id, datetime(2026, 3, 2, 8, tzinfo=UTC), 30, 24, 40.0, 0.75,
                 civil),
            _row(valmont.id, acd.id, datetime(2026, 3, 20, 8, tzinfo=UTC), 10, 5, 100.0, 0.5,
                 urbanisme),
            _row(valmont.id, acd.id, datetime(2026, 3, 31, 22, 30, tzinfo=UTC), 99, 0, 900.0,
                 0.0, civil),
            _row(other.id, other_acd.id, datetime(2026, 3, 2, 8, tzinfo=UTC), 50, 0, 600.0,
                 0.0, None),
        ])
        report = department_report(session, valmont, settings, date(2026, 3, 1),
                                   today=date(2026, 4, 2))
    names = [name for name, _ in report.call_facts]
    assert names == ["", "Urbanisme", "État civil"]
    whole, urba, etat = (f for _, f in report.call_facts)
    # 40 offered, 29 answered; (40 x 24 + 100 x 5) / 29 s; (0.75 x 30 + 0.5 x 10) / 40.
    assert whole.of("accessibility") == {"answer_rate": 29 / 40, "abandon_rate": 11 / 40}
    assert whole.of("waiting_time") == {"avg_wait_seconds": pytest.approx(1460 / 29),
                                        "service_level": pytest.approx(0.6875)}
    assert etat.of("accessibility") == {"answer_rate": 0.8, "abandon_rate": 0.2}
    assert urba.of("waiting_time") == {"avg_wait_seconds": 100.0, "service_level": 0.5}

    book = load_workbook(io.BytesIO(to_xlsx(report)))
    rows = list(book[book.sheetnames[-1]].iter_rows(values_only=True))
    assert rows[0][:3] == ("Service", "Appels présentés",
                           f"{report.labels['accessibility']}: part des appels répondus")
    assert rows[1][:4] == ("Toute la collectivité", 40, 0.725, 0.275)
    assert rows[3][:6] == ("État civil", 30, 0.8, 0.2, 40.0, 0.75)
    assert "pas comptés dans les mentions" in str(rows[-1][0])
    page = to_html(report)
    assert "<h2>Appels téléphoniques</h2>" in page and "50.345" in page
    assert "<td class=\"n\">80%</td><td class=\"n\">20%</td><td class=\"n\">40</td>" in page


def test_no_phone_figures_no_phone_section(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        report = department_report(session, valmont, settings, date(2026, 3, 1),
                                   today=date(2026, 4, 2))
    assert report.call_facts == []
    assert "Appels téléphoniques" not in to_html(report)
    assert len(load_workbook(io.BytesIO(to_xlsx(report))).sheetnames) == 3
