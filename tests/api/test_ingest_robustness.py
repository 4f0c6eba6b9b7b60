"""What the store cannot hold never fails a batch: NULs and control characters through the push
API and a CSV upload, long texts cut with the cut recorded, a record the database refuses, two
versions of one external id in one batch, a new key's first batches racing (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.collectors import ingest as ingest_service
from ecoute.collectors import entries
from ecoute.collectors.batch_writer import BatchWriter
from ecoute.collectors.service import add_source
from ecoute.config.settings import Settings
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import make_writer_factory, session_scope
from ecoute.store.models import CollectionRun, Item, Quarantine, RunStatus, Source
from tests.helpers.api import admin_headers


@pytest.fixture
def token(factory: sessionmaker[Session]) -> str:
    with session_scope(factory) as session:
        return create_key(session, role="ingest", authority=ensure_authority(session, "valmont"))[1]


@pytest.fixture
def client(engine: Engine, settings: Settings, tmp_path: Path) -> TestClient:
    return TestClient(create_app(settings.model_copy(
        update={"data_dir": tmp_path / "data", "text_max_chars": 1000}), engine))


def _push(client: TestClient, token: str, records: list[Any]) -> Any:
    answer = client.post("/api/v1/ingest", json=records,
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _stored(factory: sessionmaker[Session]) -> tuple[dict[str, Item], list[Quarantine]]:
    with session_scope(factory) as session:
        items = {i.external_id: i for i in session.scalars(select(Item))}
        return items, list(session.scalars(select(Quarantine).order_by(Quarantine.id)))


NUL_RECORDS = [
    {"external_id": "n-1", "text": "Accueil\x00 très\x07 aimable", "title": "Gui\x00chet",
     "author": "jean\x00@example.org", "site": "Mairie\x00 annexe",
     "extra": {"note\x00": "rappel\x00 demandé", "tags": ["a\x00b"]}},
    {"external_id": "n-2", "text": "\x00\x00 Attente\r\ntrop longue \x1b[31m"},
    {"external_id": "n-3", "text": "L" * 5000},
    {"external_id": "n-4", "text": "\x00\x00\x00"},
]


def test_pushed_nuls_and_control_characters_are_stored_clean(
    client: TestClient, token: str, factory: sessionmaker[Session],
) -> None:
    body = _push(client, token, NUL_RECORDS)
    assert body["run"]["status"] == "partial" and body["run"]["new"] == 3
    items, quarantined = _stored(factory)
    assert [(q.position, q.error_class) for q in quarantined] == [("n-4", "EmptyText")]
    assert items["n-1"].text == "Accueil très aimable" and items["n-1"].title == "Guichet"
    assert items["n-1"].extra == {"note": "rappel demandé", "tags": ["ab"]}
    assert items["n-2"].text == " Attente\ntrop longue [31m"
    assert items["n-3"].text == "L" * 1000 and items["n-3"].extra["truncated"] == {"text": 5000}
    # The same batch again: the normal form is stable, so these are duplicates, not updates.
    again = _push(client, token, NUL_RECORDS)
    assert (again["run"]["new"], again["run"]["updated"], again["run"]["duplicate"]) == (0, 0, 3)
    assert again["run"]["quarantined"] == 1


def test_a_bad_pushed_line_is_quarantined_clean(
    client: TestClient, token: str, factory: sessionmaker[Session],
) -> None:
    body = ('{"external_id": "ok", "text": "Bien"}\n{"broken\x00 line\x00' + "z" * 3000 + "\n")
    answer = client.post("/api/v1/ingest", content=body.encode(), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["run"]["status"] == "partial"
    items, quarantined = _stored(factory)
    assert list(items) == ["ok"] and len(quarantined) == 1
    # The line is kept as bytes (evidence, and a binary column takes a NUL); the message,
    # a text column, is clean.
    assert quarantined[0].payload_bytes is not None
    assert quarantined[0].payload_bytes.startswith(b'{"broken\x00 line')
    assert "\x00" not in quarantined[0].message and "line 2" in quarantined[0].message


def test_a_csv_row_with_a_nul_is_stored(
    client: TestClient, token: str, factory: sessionmaker[Session], tmp_path: Path,
) -> None:
    with session_scope(factory) as session:
        source_id = add_source(session, authority="valmont", name="registre",
                               kind="complaint_log",
                               options={"path": str(tmp_path / "none.csv")}).id
    csv = "id,date,text\nc-1,2026-03-01,Bruit\x00 la nuit rue Haute\nc-2,2026-03-02,Merci\n"
    answer = client.post(f"/api/v1/sources/{source_id}/upload",
                         files={"file": ("registre.csv", csv.encode(), "text/csv")},
                         headers=admin_headers(factory))
    assert answer.status_code == 200, answer.text
    assert answer.json()["new"] == 2, answer.json()
    items, _quarantined = _stored(factory)
    assert sorted(i.text for i in items.values()) == ["Bruit la nuit rue Haute", "Merci"]


def test_a_record_the_database_refuses_is_quarantined_and_the_others_stored(
    client: TestClient, token: str, factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = entries.normalise_record

    def refused_value(record: Any, max_chars: int) -> Any:
        out = real(record, max_chars)
        if getattr(out, "external_id", None) == "bad":
            out.extra["unstorable"] = object()  # no JSON for it: the database layer refuses
        return out

    monkeypatch.setattr(entries, "normalise_record", refused_value)
    records = [{"external_id": f"g-{n}", "text": f"Avis {n}"} for n in range(5)]
    records.insert(2, {"external_id": "bad", "text": "Avis refusé"})
    body = _push(client, token, records)
    assert body["run"]["status"] == "partial"
    assert (body["run"]["new"], body["run"]["quarantined"]) == (5, 1)
    items, quarantined = _stored(factory)
    assert sorted(items) == [f"g-{n}" for n in range(5)]
    assert [q.position for q in quarantined] == ["bad"]
    assert "the database refused this record" in quarantined[0].message
    assert json.loads(quarantined[0].payload_text or "")["text"] == "Avis refusé"


def test_a_pushed_nul_reaches_no_database_statement(
    client: TestClient, token: str, factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch, engine: Engine,
) -> None:
    """Without the normal form, PostgreSQL refuses the NUL: that record alone is quarantined."""
    monkeypatch.setattr(entries, "normalise_record", lambda record, _max: record)
    body = _push(client, token, [{"external_id": "z-1", "text": "Bonjour"},
                                 {"external_id": "z-2", "text": "Bon\x00soir"}])
    items, quarantined = _stored(factory)
    if engine.dialect.name == "postgresql":
        assert body["run"]["status"] == "partial" and sorted(items) == ["z-1"]
        assert [q.position for q in quarantined] == ["z-2"]
    else:  # SQLite stores a NUL: only the normal form keeps it out
        assert sorted(items) == ["z-1", "z-2"]


def test_two_versions_of_one_id_in_one_batch_apply_in_order(
    client: TestClient, token: str, factory: sessionmaker[Session],
) -> None:
    body = _push(client, token, [
        {"external_id": "v", "text": "Dossier reçu", "extra": {"status": "open"}},
        {"external_id": "v", "text": "Dossier traité, merci", "extra": {"status": "closed"}},
        {"external_id": "v", "text": "Dossier traité, merci", "extra": {"status": "closed"}},
        {"external_id": "w", "text": "Autre avis"},
    ])  # batches of 3 (the settings fixture): the three versions share a batch
    run = body["run"]
    assert (run["new"], run["updated"], run["duplicate"]) == (2, 1, 1)
    items, _quarantined = _stored(factory)
    assert items["v"].text == "Dossier traité, merci"
    assert items["v"].extra["status"] == "closed" and len(items["v"].extra["versions"]) == 1


def test_a_failed_ingest_answers_503_with_retry_after(
    client: TestClient, token: str, factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing_write(*_args: Any, **_kwargs: Any) -> None:
        from sqlalchemy.exc import OperationalError
        raise OperationalError("INSERT ...", {}, Exception("database is locked"))

    monkeypatch.setattr(BatchWriter, "_write", failing_write)
    answer = client.post("/api/v1/ingest", json=[{"external_id": "x", "text": "Bonjour"}],
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503 and answer.headers["retry-after"].isdigit()
    assert answer.json()["error"] == "StoreError" and "INSERT" not in answer.text
    with session_scope(factory) as session:
        runs = list(session.scalars(select(CollectionRun)))
    assert [r.status for r in runs] == [RunStatus.FAILED]


def test_racing_first_uses_of_a_key_create_one_push_source(
    engine: Engine, settings: Settings, factory: sessionmaker[Session],
) -> None:
    writer = make_writer_factory(engine)
    with session_scope(factory) as session:
        ensure_authority(session, "valmont")
    created = threading.Event()
    ids: list[int] = []

    def first(hold: bool) -> None:
        with session_scope(writer) as session:
            from ecoute.store.authorities import get_authority

            owner = get_authority(session, "valmont")
            ids.append(ingest_service.push_source_id(session, settings, owner, "ek_race"))
            if hold:  # keep the transaction open while the other request inserts
                created.set()
                threading.Event().wait(0.5)

    holder = threading.Thread(target=first, args=(True,))
    holder.start()
    created.wait(10)
    first(False)
    holder.join(10)
    with session_scope(factory) as session:
        names = list(session.scalars(select(Source.name)))
    assert names == ["push ek_race"] and len(set(ids)) == 1


def test_an_upload_the_database_could_not_store_answers_503(
    client: TestClient, factory: sessionmaker[Session], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with session_scope(factory) as session:
        source_id = add_source(session, authority="valmont", name="registre",
                               kind="complaint_log",
                               options={"path": str(tmp_path / "none.csv")}).id

    def busy(*_args: Any, **_kwargs: Any) -> None:
        from sqlalchemy.exc import OperationalError
        raise OperationalError("INSERT ...", {}, Exception("database is locked"))

    monkeypatch.setattr(BatchWriter, "_write", busy)
    answer = client.post(f"/api/v1/sources/{source_id}/upload",
                         files={"file": ("registre.csv", b"id,date,text\nc-1,2026-03-01,Bruit\n",
                                         "text/csv")},
                         headers=admin_headers(factory))
    assert answer.status_code == 503 and "retry-after" in answer.headers
    assert "database is locked" in answer.json()["detail"]
