"""GET /api/v1/response-times: a complaint register collected through the runner, read back
per department, scoped to the key's authority."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from tests.helpers.api import auth as _auth


def _register(tmp_path: Path) -> Path:
    today = date.today()
    old = today - timedelta(days=60)
    path = tmp_path / "register.csv"
    path.write_text(
        "Numéro;Date de réception;Réclamation;Service;Statut;Date de réponse\n"
        f"R-1;{old:%d/%m/%Y};Attente trop longue;État civil;clos;{old:%d/%m/%Y}\n"
        f"R-2;{old:%d/%m/%Y};Aucune réponse à mon courrier;État civil;ouvert;\n"
        f"R-3;{today:%d/%m/%Y};Guichet fermé sans prévenir;Urbanisme;ouvert;\n",
        encoding="utf-8")
    return path


def test_response_times_of_a_complaint_register(
    client: TestClient, keys: dict[str, str],  # noqa: F811 (fixtures)
    factory: sessionmaker[Session],
    settings: Settings, tmp_path: Path,
) -> None:
    with session_scope(factory) as session:
        source_id = add_source(session, authority="valmont", name="register",
                               kind="complaint_log", options={"path": str(_register(tmp_path))}).id
    assert run_source(factory, settings, source_id).new == 3
    answer = client.get("/api/v1/response-times", headers=_auth(keys["viewer"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["authority"], body["window"], body["promise_working_days"],
            body["public_holidays"]) == ("valmont", "90d", 15, "FR")
    overall = body["overall"]
    # R-1 answered the day it came (0 working days); R-2 waits for 60 days, overdue; R-3
    # came today.
    assert (overall["received"], overall["unanswered"], overall["overdue"],
            overall["open"]) == (3, 2, 1, 2)
    assert (overall["within_promise"], overall["judged"], overall["share_within_promise"]) == (
        1, 2, 0.5)
    assert overall["to_answer"]["median_working_days"] == 0.0
    assert overall["to_close"]["count"] == 1 and overall["sufficient"] is False
    departments = {d["name"]: d for d in body["departments"]}
    assert departments["État civil"]["received"] == 2 and departments["Urbanisme"]["open"] == 1
    assert body["sites"] == []
    short = client.get("/api/v1/response-times?window=30d&channel=complaint",
                       headers=_auth(keys["viewer"])).json()
    assert short["overall"]["received"] == 1
    # The key's authority only: another one is refused, an installation admin sees it empty.
    refused = client.get("/api/v1/response-times?authority=autreville",
                         headers=_auth(keys["viewer"]))
    assert refused.status_code == 403
    other = client.get("/api/v1/response-times?authority=autreville",
                       headers=_auth(keys["global_admin"])).json()
    assert other["overall"]["received"] == 0 and other["overall"]["to_answer"]["count"] == 0
    assert client.get("/api/v1/response-times", headers=_auth(keys["ingest"])).status_code == 403
    assert client.get("/api/v1/response-times?window=3months",
                      headers=_auth(keys["viewer"])).status_code == 400
