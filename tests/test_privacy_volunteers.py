"""Volunteers of the phone back-up team in access and erasure requests: found by e-mail or
phone number, exported with their calls, anonymised with their hours kept for the FTE report,
only in the authority asked for."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.assessment.backup_team import answer_call
from ecoute.assessment.volunteer_hours import hours_report
from ecoute.config.settings import Settings
from ecoute.data_requests import erase_request, export_request
from ecoute.errors import InvalidRequest
from ecoute.store.authorities import Places, ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.erasure import cells_mentioning
from ecoute.store.models import BackupCall, BackupTeamMember, PhoneOverload, Volunteer
from ecoute.store.volunteer_privacy import phone_key
from ecoute.store.volunteers import add_activation, add_member, add_team, add_volunteer
from tests.helpers.api import admin_headers

UTC = timezone.utc
EMAIL = "anne.martin@valmont.example"
START = datetime(2026, 2, 3, 9, tzinfo=UTC)


@pytest.fixture
def client(engine: Engine, settings: Settings, tmp_path: Path) -> TestClient:
    return TestClient(create_app(settings.model_copy(update={"data_dir": tmp_path / "d"}),
                                 engine))


def _anne(factory: sessionmaker[Session]) -> None:
    """Anne of Valmont (Accueil) helped 90 minutes on 3 February; her first notice bounced
    with her address in the server's answer. Elsewhere, another Anne has the same address."""
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        anne = add_volunteer(session, valmont.id, name="Anne Martin", email=EMAIL,
                             phone="06 01 02 03 04", skills=["accueil"],
                             department_id=Places(valmont.id).department_id(session, "Accueil"))
        team = add_team(session, valmont.id, name="Renfort", queue="Accueil",
                        department_id=None, thresholds={})
        add_member(session, team, anne)
        overload = PhoneOverload(authority_id=valmont.id, queue="Accueil", started_at=START,
                                 calm_since=START + timedelta(minutes=90),
                                 ended_at=START + timedelta(minutes=90), trigger={})
        session.add(overload)
        session.flush()
        activation = add_activation(session, team, overload.id, START, [anne])
        call = session.scalars(select(BackupCall)).one()
        call.error = f"550 5.1.1 <{EMAIL}> mailbox full"
        answer_call(session, call, accept=True, now=START)
        call.ended_at = activation.ended_at = START + timedelta(minutes=90)
        elsewhere = ensure_authority(session, "elsewhere")
        add_volunteer(session, elsewhere.id, name="Anne Martin", email=EMAIL)


def test_phone_numbers_compare_whatever_their_spelling() -> None:
    assert phone_key("06 01 02 03 04") == phone_key("+33 6 01 02 03 04") == "601020304"
    assert phone_key("06.01.02.03.04") == phone_key("(0)601020304")
    assert phone_key("2026") is None and phone_key("anne@x.example") is None


@given(number=st.text(alphabet="0123456789", min_size=9, max_size=9),
       separator=st.sampled_from(["", " ", ".", "-"]))
def test_a_number_is_found_however_it_is_written(number: str, separator: str) -> None:
    pairs = separator.join(number[i:i + 2] for i in range(1, 9, 2))
    national = f"0{number[0]}{separator}{pairs}"
    assert phone_key(national) == phone_key(f"+33 {number}") == phone_key("0" + number)
    other = str((int(number) + 1) % 10**9).zfill(9)
    assert phone_key(national) != phone_key("0" + other)


def test_export_finds_a_volunteer_by_phone_with_her_calls(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    _anne(factory)
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        data = export_request(session, settings, phone="+33 6 01 02 03 04", authority=valmont)
        everywhere = export_request(session, settings, email=EMAIL.upper())
        with pytest.raises(InvalidRequest):
            export_request(session, settings, phone="ext. 12")
    [anne] = data["volunteers"]
    assert (anne["name"], anne["email"], anne["phone"]) == ("Anne Martin", EMAIL,
                                                            "06 01 02 03 04")
    assert anne["teams"] == ["Renfort"] and anne["authority"] == "valmont"
    [call] = anne["calls"]
    assert call["status"] == "accepted" and call["ended_at"] is not None
    assert data["matched_by"] == "phone"
    assert sorted(v["authority"] for v in everywhere["volunteers"]) == ["elsewhere", "valmont"]


def test_erasure_anonymises_the_volunteer_and_keeps_her_hours(
    factory: sessionmaker[Session], settings: Settings, engine: Engine,
) -> None:
    _anne(factory)
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        before = hours_report(session, valmont, settings, date(2026, 2, 1), START)
        dry = erase_request(session, settings, email=EMAIL, authority=valmont, dry_run=True)
    assert dry.volunteers == 1
    with session_scope(factory) as session:
        assert session.scalars(select(Volunteer.name)).all().count("Anne Martin") == 2
        valmont = ensure_authority(session, "valmont")
        receipt = erase_request(session, settings, email=EMAIL, authority=valmont)
    assert receipt.volunteers == 1
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        after = hours_report(session, valmont, settings, date(2026, 2, 1), START)
        erased = session.scalars(select(Volunteer).where(
            Volunteer.authority_id == valmont.id)).one()
        kept = session.scalars(select(Volunteer).where(
            Volunteer.authority_id != valmont.id)).one()
        assert session.scalars(select(BackupTeamMember)).all() == []
        assert "[ERASED]" in (session.scalars(select(BackupCall.error)).one() or "")
        left = cells_mentioning(session, [EMAIL, "Anne Martin", "06 01 02 03 04"])
    # Her hours, calls and department stay in the month's report; her name does not.
    assert [(r.department, r.calls, r.hours) for r in after.volunteers] == [
        (r.department, r.calls, r.hours) for r in before.volunteers] == [("Accueil", 1, 1.5)]
    assert after.volunteers[0].name != "Anne Martin" and EMAIL not in after.volunteers[0].email
    assert (erased.phone, erased.skills, erased.active) == (None, [], False)
    assert (kept.name, kept.email) == ("Anne Martin", EMAIL)  # another authority's
    assert left == {"volunteer.name": 1, "volunteer.email": 1}  # elsewhere's Anne only


def test_api_erasure_by_phone(factory: sessionmaker[Session], client: TestClient) -> None:
    _anne(factory)
    answer = client.post("/api/v1/privacy/erasure", json={"phone": "0601020304"},
                         headers=admin_headers(factory))
    assert answer.status_code == 200, answer.text
    assert answer.json()["volunteers"] == 1 and "0601020304" not in answer.text
    with session_scope(factory) as session:
        assert session.scalars(select(Volunteer.phone).where(
            Volunteer.phone.is_not(None))).all() == []
