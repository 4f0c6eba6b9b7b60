"""The phone back-up team end to end over HTTP: a phone system pushes a recorded morning of
intervals, the overload calls the team in, the available volunteers get an e-mail (a real SMTP
server on loopback), one accepts and one declines through the links, the overload ends, the
hours show in the monthly report (JSON, CSV, XLSX). Roles and authority scoping on every
endpoint."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.collectors.base import CallInterval
from ecoute.config.settings import Settings
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from tests.helpers.seed import AUTHORITY_ZONE
from tests.collectors.file_helpers import collect
from tests.conftest import FIXTURES
from tests.helpers.smtp_server import SmtpServer

DAY = FIXTURES / "call_log" / "overload_day.csv"


@pytest.fixture
def keys(factory: sessionmaker[Session]) -> dict[str, str]:
    """Tokens for valmont (admin, officer, viewer, ingest), autreville (officer, viewer,
    ingest) and an installation admin."""
    tokens = {}
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        other = ensure_authority(session, "autreville")
        for role in ("admin", "officer", "viewer", "ingest"):
            tokens[role] = create_key(session, role=role, authority=valmont)[1]
        for role in ("officer", "viewer", "ingest"):
            tokens[f"other_{role}"] = create_key(session, role=role, authority=other)[1]
        tokens["global_admin"] = create_key(session, role="admin", authority=None)[1]
    return tokens


@pytest.fixture
def client(engine: Engine, settings: Settings, smtp_server: SmtpServer) -> TestClient:
    return TestClient(create_app(settings.model_copy(update={
        "api_anonymous_read": False, "smtp_host": "127.0.0.1", "smtp_port": smtp_server.port,
        "smtp_security": "none", "mail_from": "Mairie de Valmont <ecoute@valmont.example>",
        "public_base_url": "http://testserver", "fte_hours_per_month": 150.0}), engine))


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _recorded_morning(now: datetime) -> list[dict[str, Any]]:
    """The recorded day's intervals, moved so that the interval that starts the overload
    (08:45-09:00) ends at the last quarter hour before ``now``."""
    found = [e for e in collect("call_log", path=str(DAY)) if isinstance(e, CallInterval)]
    quarter = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    shift = quarter - (found[3].interval_start + timedelta(minutes=15))
    return [{"queue": e.queue, "interval_start": (e.interval_start + shift).isoformat(),
             "interval_minutes": 15, "offered": e.offered, "answered": e.answered,
             "abandoned": e.abandoned, "avg_wait_seconds": e.avg_wait_seconds,
             "service_level": e.service_level} for e in found]


def _links(text: str) -> dict[str, str]:
    return {action: path for path, action in re.findall(
        r"http://testserver(/backup-calls/[\w.-]+/(accept|decline))", text)}


def test_overload_calls_the_team_in_by_email_and_counts_the_hours(
    client: TestClient, keys: dict[str, str], smtp_server: SmtpServer,
) -> None:
    officer, viewer, ingest = _h(keys["officer"]), _h(keys["viewer"]), _h(keys["ingest"])
    people = {}
    for name, email, slots, active in [
        ("Anne Martin", "anne@valmont.example", [], True),
        ("Bruno Petit", "bruno@valmont.example", [], True),
        # Never available (a slot on no day she works now) and someone who left: not called.
        ("Chloé Roux", "chloe@valmont.example",
         [{"weekday": d, "start": "00:00", "end": "00:01"} for d in range(7)], True),
        ("Denis Blanc", "denis@valmont.example", [], False),
    ]:
        answer = client.post("/api/v1/volunteers", headers=officer, json={
            "name": name, "email": email, "phone": "01 23 45 67 89", "skills": ["état civil"],
            "availability": slots, "department": "Accueil" if name < "C" else "Urbanisme",
            "active": active})
        assert answer.status_code == 201, answer.text
        people[name.split()[0]] = answer.json()["id"]
    team = client.post("/api/v1/backup-teams", headers=officer, json={
        "name": "Renfort accueil", "queue": "Accueil mairie", "department": "Accueil",
        "volunteer_ids": list(people.values())})
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    assert len(team.json()["volunteers"]) == 4

    intervals = _recorded_morning(datetime.now(timezone.utc))
    pushed = client.post("/api/v1/phone/stats", headers=ingest, json=intervals[:4])
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["overloads_started"] == ["Accueil mairie"]
    # The TestClient runs the background notification before it returns.
    assert sorted(r[0] for r in smtp_server.recipients) == [
        "anne@valmont.example", "bruno@valmont.example"]
    mails = {str(m["To"]): m.get_body(("plain",)).get_content() for m in smtp_server.messages}
    assert "Accueil mairie" in mails["anne@valmont.example"]
    anne, bruno = _links(mails["anne@valmont.example"]), _links(mails["bruno@valmont.example"])
    assert set(anne) == set(bruno) == {"accept", "decline"} and anne != bruno

    shown = client.get(anne["accept"])  # what a mail scanner would open: records nothing
    assert shown.status_code == 200 and "<form method=\"post\"" in shown.text
    activations = client.get("/api/v1/backup-activations", headers=viewer).json()
    assert {c["status"] for c in activations[0]["calls"]} == {"notified"}
    assert client.post(anne["accept"]).status_code == 200
    assert client.post(bruno["decline"]).status_code == 200
    forged = anne["accept"].replace(anne["accept"].split("/")[2].split(".")[1], "x" * 32)
    assert client.post(forged).status_code == 404

    team_now = client.get(f"/api/v1/backup-teams/{team_id}", headers=viewer).json()
    assert team_now["overloaded_since"] is not None and team_now["activation_id"] is not None
    alerts = client.get("/api/v1/alerts", headers=viewer).json()
    assert any(a["key"] == "phone_overload:Accueil mairie" for a in alerts)

    # The rest of the morning: calm from "11:00", over at "11:30".
    assert client.post("/api/v1/phone/stats", headers=ingest,
                       json=intervals[4:14]).json()["overloads_ended"] == ["Accueil mairie"]
    activation = client.get("/api/v1/backup-activations", headers=viewer).json()[0]
    assert activation["ended_at"] is not None
    calls = {c["volunteer"]: c for c in activation["calls"]}
    assert calls["Bruno Petit"]["status"] == "declined"
    assert calls["Anne Martin"]["ended_at"] == activation["ended_at"]
    assert client.post(anne["accept"]).status_code == 200  # the same answer again: no change
    late = client.post(bruno["accept"])
    assert late.status_code == 409 and "over" in late.text

    assert client.put(f"/api/v1/backup-calls/{calls['Bruno Petit']['id']}/hours",
                      headers=_h(keys["other_officer"]), json={"minutes": 5}).status_code == 404
    assert client.get("/api/v1/backup-activations", headers=_h(keys["other_viewer"])
                      ).json() == []
    # Bruno helped after all, by phone: an officer records his 90 minutes.
    assert client.put(f"/api/v1/backup-calls/{calls['Bruno Petit']['id']}/hours",
                      headers=officer, json={"minutes": 90}).status_code == 204
    started = datetime.fromisoformat(calls["Anne Martin"]["started_at"])
    ended = datetime.fromisoformat(calls["Anne Martin"]["ended_at"])
    anne_hours = round((ended - started).total_seconds() / 3600, 2)
    assert 2 < anne_hours <= 2.5  # accepted just after the "09:00" start, over at "11:30"
    # A call counts in the month it started in the authority's time zone (around midnight on
    # a month's last day, Paris is already in the next one).
    month = f"{started.astimezone(AUTHORITY_ZONE):%Y-%m}"
    report = client.get(f"/api/v1/volunteer-hours?month={month}", headers=viewer).json()
    rows = {r["name"]: r for r in report["volunteers"]}
    assert (rows["Anne Martin"]["hours"], rows["Bruno Petit"]["hours"]) == (anne_hours, 1.5)
    assert rows["Bruno Petit"]["fte"] == 0.01  # 1.5 / 150
    # The FTE is computed from the exact minutes, not from the rounded hours shown.
    exact = (ended - started).total_seconds() / 3600 + 1.5
    [department] = report["departments"]
    assert (department["department"], department["volunteers"]) == ("Accueil", 2)
    assert department["hours"] == pytest.approx(exact, abs=0.01)
    assert department["fte"] == pytest.approx(exact / 150, abs=0.0001)

    csv_text = client.get(f"/api/v1/volunteer-hours?month={month}&format=csv",
                          headers=viewer).text
    assert "Bruno Petit;bruno@valmont.example;Accueil;1;1.5;0.01" in csv_text
    assert f"total;2;{round(anne_hours + 1.5, 2)};" in csv_text
    xlsx = client.get(f"/api/v1/volunteer-hours?month={month}&format=xlsx", headers=viewer)
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = list(book["volunteers"].iter_rows(values_only=True))
    assert sheet[0] == ("volunteer", "email", "department", "calls", "hours", "fte")
    assert ("Bruno Petit", "bruno@valmont.example", "Accueil", 1, 1.5, 0.01) in sheet

    effect = client.get("/api/v1/phone/effect", headers=viewer).json()
    assert (effect["helped"]["overloads"], effect["alone"]["overloads"]) == (1, 0)
    # From "09:00" to the calm at "11:00": 8 intervals, 160 calls offered, 23 abandoned.
    assert (effect["helped"]["figures"]["offered"],
            effect["helped"]["figures"]["abandoned"]) == (160, 23)
    queues = client.get("/api/v1/phone/queues?intervals=true", headers=viewer).json()
    accueil = queues["queues"][0]
    assert accueil["queue"] == "Accueil mairie" and accueil["team_id"] == team_id
    assert accueil["facts"]["accessibility"] == accueil["figures"]["answer_rate"]


def test_every_endpoint_keeps_to_its_roles_and_authority(
    client: TestClient, keys: dict[str, str],
) -> None:
    officer = _h(keys["officer"])
    volunteer = client.post("/api/v1/volunteers", headers=officer, json={
        "name": "Anne Martin", "email": "anne@valmont.example"}).json()["id"]
    team = client.post("/api/v1/backup-teams", headers=officer, json={
        "name": "Renfort", "queue": "Accueil", "volunteer_ids": [volunteer]}).json()["id"]
    assert client.post("/api/v1/volunteers", headers=officer, json={
        "name": "Anne", "email": "ANNE@valmont.example"}).status_code == 409
    interval = {"queue": "Accueil", "interval_start": "2026-03-02T08:00:00+01:00",
                "offered": 10, "answered": 9, "abandoned": 1}
    writes = [("post", "/api/v1/volunteers", {"name": "X", "email": "x@valmont.example"}),
              ("patch", f"/api/v1/volunteers/{volunteer}", {"phone": "0600"}),
              ("post", "/api/v1/backup-teams", {"name": "Y", "queue": "Urbanisme"}),
              ("patch", f"/api/v1/backup-teams/{team}", {"name": "Z"}),
              ("post", f"/api/v1/backup-teams/{team}/members", {"volunteer_id": volunteer}),
              ("put", "/api/v1/backup-calls/1/hours", {"minutes": 5})]
    reads = ["/api/v1/volunteers", "/api/v1/backup-teams", f"/api/v1/backup-teams/{team}",
             "/api/v1/backup-activations", "/api/v1/volunteer-hours", "/api/v1/phone/queues",
             "/api/v1/phone/overloads", "/api/v1/phone/effect"]
    for method, path, body in writes:
        for who in ("viewer", "ingest"):
            assert client.request(method, path, headers=_h(keys[who]),
                                  json=body).status_code == 403, (method, path, who)
        assert client.request(method, path, json=body).status_code == 401
    for path in reads:
        assert client.get(path, headers=_h(keys["ingest"])).status_code == 403, path
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers=_h(keys["viewer"])).status_code in (200, 404), path
        assert client.get(path, headers=_h(keys["other_viewer"]),
                          params={"authority": "valmont"}).status_code == 403, path
    for method, path, body in writes[1:2] + writes[3:5]:  # another authority's ids
        assert client.request(method, path, headers=_h(keys["other_officer"]),
                              json=body).status_code == 404, (method, path)
    assert client.get(f"/api/v1/backup-teams/{team}",
                      headers=_h(keys["other_viewer"])).status_code == 404
    assert client.delete(f"/api/v1/volunteers/{volunteer}",
                         headers=_h(keys["other_officer"])).status_code == 404
    assert client.delete(f"/api/v1/backup-teams/{team}",
                         headers=_h(keys["other_officer"])).status_code == 404
    # Another authority sees nothing of Valmont's.
    assert client.get("/api/v1/volunteers", headers=_h(keys["other_viewer"])).json() == []
    assert client.get("/api/v1/backup-teams", headers=_h(keys["other_viewer"])).json() == []
    # Pushing: ingest keys of the authority only; viewers and officers cannot.
    assert client.post("/api/v1/phone/stats", headers=_h(keys["viewer"]),
                       json=[interval]).status_code == 403
    assert client.post("/api/v1/phone/stats", headers=_h(keys["other_ingest"]),
                       params={"authority": "valmont"}, json=[interval]).status_code == 403
    assert client.post("/api/v1/phone/stats", headers=_h(keys["other_ingest"]),
                       json=[interval]).status_code == 200
    assert client.get("/api/v1/phone/queues", headers=_h(keys["viewer"]),
                      params={"since": "2026-03-01T00:00:00Z"}).json()["queues"] == []
    bad = dict(interval, answered=12)
    assert client.post("/api/v1/phone/stats", headers=_h(keys["ingest"]),
                       json=[bad]).status_code == 422
    # The installation's admin reaches every authority's ids.
    assert client.patch(f"/api/v1/backup-teams/{team}", headers=_h(keys["global_admin"]),
                        json={"thresholds": {"abandon_rate": 0.3}}).json()["thresholds"] == {
        "abandon_rate": 0.3}
    assert client.delete(f"/api/v1/backup-teams/{team}/members/{volunteer}",
                         headers=officer).json()["volunteers"] == []
    assert client.delete(f"/api/v1/backup-teams/{team}", headers=officer).status_code == 204
    assert client.delete(f"/api/v1/volunteers/{volunteer}", headers=officer).status_code == 204
