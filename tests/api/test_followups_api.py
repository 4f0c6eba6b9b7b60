"""Routing rules, follow-ups and department summaries over HTTP: roles (officers write,
viewers read, ingest keys neither) and authority scoping on every endpoint."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.config.settings import Settings
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import Item
from tests.helpers.feedback import classify, push

NOW = datetime.now(timezone.utc)


@pytest.fixture
def keys(factory: sessionmaker[Session]) -> dict[str, str]:
    """Tokens for valmont (admin, officer, viewer, ingest), autreville (officer, viewer) and
    an installation admin."""
    tokens = {}
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        other = ensure_authority(session, "autreville")
        for role in ("admin", "officer", "viewer", "ingest"):
            tokens[role] = create_key(session, role=role, authority=valmont,
                                      label=f"{role} de Valmont")[1]
        tokens["other_officer"] = create_key(session, role="officer", authority=other)[1]
        tokens["other_viewer"] = create_key(session, role="viewer", authority=other)[1]
        tokens["global_admin"] = create_key(session, role="admin", authority=None)[1]
    return tokens


@pytest.fixture
def client(engine: Engine, settings: Settings) -> TestClient:
    return TestClient(create_app(settings.model_copy(update={
        "api_anonymous_read": False, "followup_max_age_days": 0,
        "routing_default_department": "Accueil"}), engine))


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _feedback(factory: sessionmaker[Session], settings: Settings, tmp_path: Path
              ) -> dict[str, int]:
    settings = settings.model_copy(update={"followup_max_age_days": 0,
                                           "routing_default_department": "Accueil"})
    push(factory, settings, tmp_path / "valmont", [
        {"external_id": "old", "text": "Trottoir défoncé. Attente d'une réponse.",
         "channel": "complaint", "published_at": (NOW - timedelta(days=40)).isoformat()},
        {"external_id": "new", "text": "Trottoir glissant devant l'école.",
         "channel": "complaint", "published_at": NOW.isoformat()},
        {"external_id": "rude", "text": "Agent impoli au guichet.", "channel": "review",
         "published_at": (NOW - timedelta(days=3)).isoformat()},
        {"external_id": "kind", "text": "Personnel aimable.", "channel": "review",
         "published_at": (NOW - timedelta(days=3)).isoformat()},
    ])
    push(factory, settings, tmp_path / "autreville", [
        {"external_id": "elsewhere", "text": "Trottoir cassé.", "channel": "complaint",
         "published_at": NOW.isoformat()}], authority="autreville", name="autre")
    classify(factory, settings)
    with session_scope(factory) as session:
        return dict(session.execute(select(Item.external_id, Item.id)).all())


def test_routing_rules_crud_by_role_and_authority(
    client: TestClient, keys: dict[str, str], factory: sessionmaker[Session],
    settings: Settings, tmp_path: Path,
) -> None:
    rule = {"department": "Voirie", "keyword": "trottoir, chaussée", "channel": "complaint"}
    assert client.post("/api/v1/routing-rules", json=rule,
                       headers=_h(keys["viewer"])).status_code == 403
    assert client.post("/api/v1/routing-rules", json=rule).status_code == 401
    assert client.get("/api/v1/routing-rules", headers=_h(keys["ingest"])).status_code == 403
    created = client.post("/api/v1/routing-rules", json=rule, headers=_h(keys["officer"]))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["department"], body["position"], body["keyword"]) == (
        "Voirie", 1, "trottoir, chaussée")
    assert body["created_by"].startswith("key:ek_") and "officer de Valmont" in body["created_by"]
    second = client.post("/api/v1/routing-rules", headers=_h(keys["admin"]), json={
        "department": "Accueil", "determinant": "courtesy", "polarity": "negative",
        "position": 1}).json()
    refused = client.post("/api/v1/routing-rules", headers=_h(keys["officer"]),
                          json={"department": "Voirie"})
    assert refused.status_code == 400 and "criterion" in refused.json()["detail"]
    assert client.post("/api/v1/routing-rules", headers=_h(keys["officer"]), json={
        "department": "X", "determinant": "parking"}).status_code == 400

    listed = client.get("/api/v1/routing-rules", headers=_h(keys["viewer"])).json()
    assert [r["id"] for r in listed["rules"]] == [second["id"], body["id"]]
    assert listed["default_department"] == "Accueil"
    assert listed["response_promise_working_days"] == 15
    # Another authority neither sees nor changes valmont's rules.
    assert client.get("/api/v1/routing-rules",
                      headers=_h(keys["other_viewer"])).json()["rules"] == []
    assert client.patch(f"/api/v1/routing-rules/{body['id']}", json={"position": 1},
                        headers=_h(keys["other_officer"])).status_code == 404
    assert client.delete(f"/api/v1/routing-rules/{body['id']}",
                         headers=_h(keys["other_officer"])).status_code == 404
    assert client.get("/api/v1/routing-rules", params={"authority": "valmont"},
                      headers=_h(keys["other_viewer"])).status_code == 403
    moved = client.patch(f"/api/v1/routing-rules/{body['id']}", headers=_h(keys["officer"]),
                         json={"position": 1, "channel": None})
    assert moved.status_code == 200 and (moved.json()["position"], moved.json()["channel"]) == (
        1, None)

    ids = _feedback(factory, settings, tmp_path)
    followups = client.get("/api/v1/followups", headers=_h(keys["viewer"])).json()
    departments = {f["item_id"]: f["department"] for f in followups["followups"]}
    assert departments == {ids["old"]: "Voirie", ids["new"]: "Voirie", ids["rude"]: "Accueil"}

    assert client.delete(f"/api/v1/routing-rules/{second['id']}",
                         headers=_h(keys["viewer"])).status_code == 403
    assert client.delete(f"/api/v1/routing-rules/{second['id']}",
                         headers=_h(keys["global_admin"])).status_code == 204
    assert [r["position"] for r in client.get(
        "/api/v1/routing-rules", headers=_h(keys["viewer"])).json()["rules"]] == [1]


def test_follow_up_through_the_api(
    client: TestClient, keys: dict[str, str], factory: sessionmaker[Session],
    settings: Settings, tmp_path: Path,
) -> None:
    ids = _feedback(factory, settings, tmp_path)
    viewer, officer = _h(keys["viewer"]), _h(keys["officer"])
    listed = client.get("/api/v1/followups", headers=viewer).json()
    assert listed["total"] == 3  # two complaints and the negative review, not the kind one
    overdue = client.get("/api/v1/followups", params={"overdue": "true"}, headers=viewer).json()
    assert [f["item_id"] for f in overdue["followups"]] == [ids["old"]]
    assert overdue["followups"][0]["overdue"] and overdue["followups"][0]["department"] == \
        "Accueil"  # no rule: the default department
    assert client.get("/api/v1/followups", params={"overdue": "true"},
                      headers=_h(keys["other_viewer"])).json()["total"] == 0
    assert client.get("/api/v1/followups", headers=_h(keys["ingest"])).status_code == 403

    url = f"/api/v1/items/{ids['old']}/followup"
    assert client.put(url, json={"assignee": "M. Roux"}, headers=viewer).status_code == 403
    assert client.put(url, json={"assignee": "M. Roux"},
                      headers=_h(keys["other_officer"])).status_code == 404
    assert client.get(url, headers=_h(keys["other_viewer"])).status_code == 404
    changed = client.put(url, json={"assignee": "M. Roux"}, headers=officer)
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "assigned"
    wrong = client.put(url, json={"status": "closed"}, headers=officer)
    assert wrong.status_code == 409 and "assigned follow-up cannot become closed" in \
        wrong.json()["detail"]
    assert client.put(url, json={"status": "dismissed"}, headers=officer).status_code == 400
    answered = client.put(url, json={"status": "answered"}, headers=officer).json()
    assert answered["answered_at"] is not None and not answered["overdue"]
    assert answered["answered_in_time"] is False  # 40 days for a 15-working-day promise

    note_url = f"{url}/notes"
    assert client.post(note_url, json={"note": "Rappelé"}, headers=viewer).status_code == 403
    assert client.post(note_url, json={"note": "Rappelé"},
                       headers=_h(keys["other_officer"])).status_code == 404
    note = client.post(note_url, json={"note": "Rappelé <b>lundi</b>"}, headers=officer)
    assert note.status_code == 201 and note.json()["action"] == "note"

    shown = client.get(url, headers=viewer).json()
    assert [e["action"] for e in shown["events"]] == [
        "opened", "assignee", "status", "status", "note"]
    assert all(e["actor"].startswith("key:ek_") and "officer de Valmont" in e["actor"]
               for e in shown["events"][1:])

    # An officer opens a follow-up on an item routing did not pick, and moves it.
    with session_scope(factory) as session:
        from ecoute.store.authorities import Places
        culture = Places(ensure_authority(session, "valmont").id).department_id(
            session, "Culture")
        elsewhere = Places(ensure_authority(session, "autreville").id).department_id(
            session, "Ailleurs")
    kind_url = f"/api/v1/items/{ids['kind']}/followup"
    assert client.get(kind_url, headers=viewer).status_code == 404
    assert client.put(kind_url, json={"department_id": elsewhere},
                      headers=officer).status_code == 404
    opened = client.put(kind_url, json={"department_id": culture,
                                        "due_on": "2030-01-31"}, headers=officer).json()
    assert (opened["status"], opened["department"], opened["due_on"],
            opened["due_set_by_officer"]) == ("new", "Culture", "2030-01-31", True)
    by_department = client.get("/api/v1/followups", params={"department_id": culture},
                               headers=viewer).json()
    assert [f["item_id"] for f in by_department["followups"]] == [ids["kind"]]


def test_department_summary_beside_the_authority(
    client: TestClient, keys: dict[str, str], factory: sessionmaker[Session],
    settings: Settings, tmp_path: Path,
) -> None:
    client.post("/api/v1/routing-rules", headers=_h(keys["officer"]),
                json={"department": "Voirie", "keyword": "trottoir"})
    ids = _feedback(factory, settings, tmp_path)
    departments = {d["name"]: d for d in client.get(
        "/api/v1/departments", headers=_h(keys["viewer"])).json()}
    assert (departments["Voirie"]["open"], departments["Voirie"]["overdue"]) == (2, 1)
    assert (departments["Accueil"]["open"], departments["Accueil"]["overdue"]) == (1, 0)
    voirie = departments["Voirie"]["id"]
    url = f"/api/v1/departments/{voirie}/summary"
    assert client.get(url, headers=_h(keys["other_viewer"])).status_code == 404
    assert client.get(url, headers=_h(keys["ingest"])).status_code == 403
    summary = client.get(url, params={"window": "90d"}, headers=_h(keys["viewer"])).json()
    assert summary["department"] == {"id": voirie, "name": "Voirie", "open": 2, "overdue": 1}
    assert [f["item_id"] for f in summary["open_followups"]] == [ids["old"], ids["new"]]
    assert summary["responsiveness"]["department"]["received"] == 2
    assert summary["responsiveness"]["authority"]["received"] == 3
    assert summary["responsiveness"]["department"]["due"] == 1  # the old one, missed
    waiting = {d["department"]["determinant"]: d for d in summary["determinants"]}
    assert waiting["waiting_time"]["department"]["negative"] == 1
    assert summary["overall"]["authority"]["n"] > summary["overall"]["department"]["n"]
