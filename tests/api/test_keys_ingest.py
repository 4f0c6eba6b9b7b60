"""API keys, authority scoping, anonymous reads, push ingest and file upload, over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.collectors.service import add_source
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.models import ApiKey, Item, Quarantine, Source
from tests.helpers import documents
from tests.helpers.api import api_client as _client
from tests.helpers.api import auth as _auth


def _items(factory: sessionmaker[Session]) -> list[Item]:
    with session_scope(factory) as session:
        return list(session.scalars(select(Item).order_by(Item.id)))


RECORDS = [
    {"external_id": "t-1", "text": "Le conducteur du bus 12 était très aimable.",
     "title": "Bus 12", "published_at": "2026-03-12T08:30:00+01:00", "channel": "complaint",
     "rating_value": 4, "rating_scale": "1-5", "author": "jean@example.org"},
    {"external_id": "t-2", "text": "Attente de 40 minutes au guichet, appelez-moi au "
     "06 12 34 56 78.", "published_at": "2026-03-13T10:00:00"},
    {"external_id": "t-3", "text": "   "},
    {"text": "no id"},
    {"external_id": "t-5", "text": "ok", "colour": "blue"},
    "not an object",
]


def test_tokens_are_hashed_and_prefixed(factory: sessionmaker[Session],
                                        keys: dict[str, str]) -> None:
    with session_scope(factory) as session:
        stored = list(session.scalars(select(ApiKey)))
    assert len(stored) == 7
    for key in stored:
        assert key.prefix.startswith("ek_") and len(key.key_hash) == 64
        assert all(key.key_hash not in token for token in keys.values())
    assert all(token.startswith("ek_") and len(token) > 40 for token in keys.values())


def test_ingest_lands_good_records_and_quarantines_bad_ones(
    client: TestClient, factory: sessionmaker[Session], keys: dict[str, str]
) -> None:
    response = client.post("/api/v1/ingest", json=RECORDS, headers=_auth(keys["ingest"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["received"] == 6
    assert (body["run"]["new"], body["run"]["quarantined"], body["run"]["status"]) == (
        2, 4, "partial")
    reasons = {p["index"]: p["reason"] for p in body["rejected"]}
    assert sorted(reasons) == [2, 3, 4, 5]
    assert "text" in reasons[2] and "external_id" in reasons[3]
    assert "colour" in reasons[4] and "JSON object" in reasons[5]
    items = _items(factory)
    assert [i.external_id for i in items] == ["t-1", "t-2"]
    first, second = items
    assert (first.channel, first.rating_norm, first.title) == ("complaint", 0.75, "Bus 12")
    assert first.published_at is not None and first.published_at.hour == 7  # in UTC
    assert first.author_hash and "jean" not in first.author_hash
    assert "06 12" not in second.text and second.channel == "review"
    with session_scope(factory) as session:
        source = session.scalars(select(Source).where(Source.kind == "push")).one()
        assert source.name.startswith("push ek_")
        assert session.query(Quarantine).count() == 4
        # Pushed records go to the runner as they are read: no file, no schedule.
        assert (source.options, source.schedule) == ({}, "manual")

    # Idempotent: the same push again stores nothing new; a changed text updates the item.
    again = client.post("/api/v1/ingest", json=RECORDS[:2], headers=_auth(keys["ingest"]))
    assert again.json()["run"]["duplicate"] == 2 and again.json()["run"]["new"] == 0
    changed = [{**RECORDS[0], "text": "Le conducteur était aimable, le bus en retard."}]
    ndjson = "\n".join(json.dumps(r) for r in changed) + "\n"
    third = client.post("/api/v1/ingest", content=ndjson.encode(),
                        headers={**_auth(keys["ingest"]),
                                 "Content-Type": "application/x-ndjson"})
    assert third.json()["run"]["updated"] == 1
    assert len(_items(factory)) == 2


def test_ndjson_with_a_broken_line(client: TestClient, factory: sessionmaker[Session],
                                   keys: dict[str, str]) -> None:
    body = b'{"external_id": "a", "text": "Tres bon accueil."}\n{broken\n\n' \
        b'{"external_id": "b", "text": "Piscine sale."}\n'
    response = client.post("/api/v1/ingest", content=body,
                           headers={"X-API-Key": keys["ingest"],
                                    "Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == [{"index": 1, "reason": "record 1 (line 2): not JSON"}]
    assert response.json()["run"]["new"] == 2
    with session_scope(factory) as session:
        row = session.scalars(select(Quarantine)).one()
    assert row.payload_bytes == b"{broken" and "not JSON" in row.message


def test_ingest_refusals(engine: Engine, settings: Settings, tmp_path: Path,
                         client: TestClient, keys: dict[str, str]) -> None:
    url = "/api/v1/ingest"
    assert client.post(url, json=RECORDS).status_code == 401
    assert client.post(url, json=RECORDS, headers=_auth("ek_wrong")).status_code == 401
    assert client.post(url, json=RECORDS, headers=_auth(keys["revoked"])).status_code == 401
    viewer = client.post(url, json=RECORDS, headers=_auth(keys["viewer"]))
    assert viewer.status_code == 403 and viewer.json()["error"] == "Forbidden"
    foreign = client.post(url, json=RECORDS, params={"authority": "autreville"},
                          headers=_auth(keys["ingest"]))
    assert foreign.status_code == 403
    bad = client.post(url, content=b"[{\"external_id\": ", headers=_auth(keys["ingest"]))
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["detail"]
    small = _client(engine, settings, tmp_path, ingest_max_bytes=1024)
    big = small.post(url, json=RECORDS * 20, headers=_auth(keys["ingest"]))
    assert big.status_code == 413 and big.json()["error"] == "PayloadTooLarge"


def test_each_key_pushes_to_its_own_authority(
    client: TestClient, factory: sessionmaker[Session], keys: dict[str, str]
) -> None:
    client.post("/api/v1/ingest", json=RECORDS[:1], headers=_auth(keys["ingest"]))
    client.post("/api/v1/ingest", json=RECORDS[:1], headers=_auth(keys["other_ingest"]))
    admin = client.post("/api/v1/ingest", json=RECORDS[1:2], params={"authority": "autreville"},
                        headers=_auth(keys["global_admin"]))
    assert admin.status_code == 200
    with session_scope(factory) as session:
        owners = sorted((s.authority.slug, s.kind) for s in session.scalars(select(Source)))
    assert owners == [("autreville", "push"), ("autreville", "push"), ("valmont", "push")]
    # Reading is scoped the same way.
    own = client.get("/api/v1/items", headers=_auth(keys["viewer"]))
    assert own.status_code == 200 and len(own.json()["items"]) == 1
    other = client.get("/api/v1/items", params={"authority": "autreville"},
                       headers=_auth(keys["viewer"]))
    assert other.status_code == 403
    ingest_reads = client.get("/api/v1/items", headers=_auth(keys["ingest"]))
    assert ingest_reads.status_code == 403
    item_id = own.json()["items"][0]["id"]
    autreville_item = [i for i in _items(factory) if i.id != item_id][0].id
    assert client.get(f"/api/v1/items/{autreville_item}",
                      headers=_auth(keys["officer"])).status_code == 404


def test_anonymous_reads_follow_the_environment(
    engine: Engine, settings: Settings, tmp_path: Path, keys: dict[str, str]
) -> None:
    dev = _client(engine, settings, tmp_path, default_authority="valmont")
    assert dev.get("/api/v1/sources").status_code == 200
    assert dev.post("/api/v1/ingest", json=RECORDS).status_code == 401  # writing: never
    prod = _client(engine, settings, tmp_path, env="prod", pseudonym_key="k" * 32,
                   default_authority="valmont")
    refused = prod.get("/api/v1/sources")
    assert refused.status_code == 401 and "ecoute keys create" in refused.json()["hint"]
    assert refused.headers["www-authenticate"] == 'Bearer realm="ecoute"'
    assert prod.get("/api/v1/sources", headers=_auth(keys["viewer"])).status_code == 200
    assert prod.get("/api/v1/health").status_code == 200
    opened = _client(engine, settings, tmp_path, env="prod", pseudonym_key="k" * 32,
                     api_anonymous_read=True, default_authority="valmont")
    assert opened.get("/api/v1/sources").status_code == 200
    closed = _client(engine, settings, tmp_path, api_anonymous_read=False)
    assert closed.get("/api/v1/sources").status_code == 401


def test_upload_runs_a_file_source(
    client: TestClient, factory: sessionmaker[Session], keys: dict[str, str], tmp_path: Path
) -> None:
    with session_scope(factory) as session:
        source_id = add_source(session, authority="valmont", name="cr", kind="documents",
                               options={"path": str(tmp_path / "watched")}).id
        rss_id = add_source(session, authority="valmont", name="flux", kind="rss",
                            options={"url": "https://example.org/feed"}).id
        other_id = add_source(session, authority="autreville", name="cr", kind="documents",
                              options={"path": str(tmp_path / "x")}).id
    pdf = documents.write_pdf(tmp_path / "conseil 2026-03-12.pdf").read_bytes()
    url = f"/api/v1/sources/{source_id}/upload"
    files = {"file": ("../../conseil 2026-03-12.pdf", pdf, "application/pdf")}
    response = client.post(url, files=files, headers=_auth(keys["ingest"]))
    assert response.status_code == 200, response.text
    assert (response.json()["new"], response.json()["status"]) == (4, "success")
    saved = list((tmp_path / "data" / "uploads" / "valmont").rglob("*.pdf"))
    assert len(saved) == 1 and saved[0].name == "conseil 2026-03-12.pdf"
    assert {i.extra["meeting_date"] for i in _items(factory)} == {"2026-03-12"}
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None and source.options["path"] == str(tmp_path / "watched")

    assert client.post(url, files=files, headers=_auth(keys["viewer"])).status_code == 403
    assert client.post(f"/api/v1/sources/{other_id}/upload", files=files,
                       headers=_auth(keys["ingest"])).status_code == 404
    not_files = client.post(f"/api/v1/sources/{rss_id}/upload", files=files,
                            headers=_auth(keys["admin"]))
    assert not_files.status_code == 400 and "does not read files" in not_files.json()["detail"]
    small = TestClient(create_app(client.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"upload_max_bytes": 1024}), client.app.state.engine))  # type: ignore[attr-defined]
    too_big = small.post(url, files=files, headers=_auth(keys["ingest"]))
    assert too_big.status_code == 413


def test_upload_answer_carries_the_run_warnings(
    client: TestClient, factory: sessionmaker[Session], keys: dict[str, str], tmp_path: Path
) -> None:
    with session_scope(factory) as session:
        source_id = add_source(session, authority="valmont", name="enquete", kind="survey_file",
                               options={"path": str(tmp_path / "watched")}).id
    closed_questions = ("id,submitdate,lastpage,startlanguage,seed,Service visited\n"
                        "1,2024-03-02 10:00:00,2,fr,1,A1\n2,2024-03-02 11:00:00,2,fr,2,A2\n")
    response = client.post(f"/api/v1/sources/{source_id}/upload",
                           files={"file": ("results.csv", closed_questions, "text/csv")},
                           headers=_auth(keys["ingest"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["new"]) == ("success", 0)
    [warning] = body["warnings"]
    assert "no free-text answer column" in warning and "text_columns" in warning
