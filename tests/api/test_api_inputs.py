"""Inputs a client gets wrong, or an attacker sends, answer 4xx with a reason, never 500:
natural dates, ids past 64 bits, edited cursors, bodies nested or sized past the limits."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.models import Item
from tests.helpers.api import admin_headers, api_client

HUGE = str(2**70)


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.fixture
def admin(factory: sessionmaker[Session]) -> dict[str, str]:
    """Headers of an admin key of authority `valmont` (time zone Europe/Paris)."""
    return admin_headers(factory)


@pytest.fixture
def client(engine: Engine, settings: Settings, tmp_path: Path) -> TestClient:
    """The API, answering 500 instead of raising a server error into the test."""
    return api_client(engine, settings, tmp_path, raise_server_exceptions=False)


def _push(client: TestClient, admin: dict[str, str], records: list[dict[str, Any]]) -> Any:
    response = client.post("/api/v1/ingest", json=records, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def test_since_and_until_take_a_plain_date_in_the_authority_time_zone(
    client: TestClient, admin: dict[str, str]
) -> None:
    _push(client, admin, [
        # 23:30 UTC on 31 December is already 1 January in Paris.
        {"external_id": "new-year", "text": "Bonne année", "published_at":
         "2025-12-31T23:30:00+00:00"},
        {"external_id": "before", "text": "Fin d'année", "published_at":
         "2025-12-31T22:30:00+00:00"},
    ])
    since = client.get("/api/v1/items", params={"since": "2026-01-01"}, headers=admin)
    assert since.status_code == 200, since.text
    assert [i["external_id"] for i in since.json()["items"]] == ["new-year"]
    until = client.get("/api/v1/items", params={"until": "2026-01-01T00:00:00"}, headers=admin)
    assert [i["external_id"] for i in until.json()["items"]] == ["before"]


@pytest.mark.parametrize("path", [
    f"/api/v1/items?source_id={HUGE}",
    f"/api/v1/items/{HUGE}",
    f"/api/v1/satisfaction?site_id={HUGE}",
    f"/api/v1/satisfaction?department_id={HUGE}",
    "/api/v1/items?since=0001-01-01T00:00:00%2B05:00",
    "/api/v1/items?until=9999-12-31T23:00:00-05:00",
    "/api/v1/items?cursor=" + _cursor([None, 2**70]),
    "/api/v1/items?cursor=" + _cursor([None, 1e300]),
    "/api/v1/items?cursor=" + _cursor([None, True]),
    "/api/v1/items?cursor=" + _cursor(["2026-01-01", 1]),
    "/api/v1/items?cursor=" + _cursor(["0001-01-01T00:00:00+05:00", 1]),
    "/api/v1/items?cursor=" + _cursor([["x"], 1]),
    "/api/v1/items?cursor=" + _cursor({"a": 1}),
    "/api/v1/items?cursor=" + base64.urlsafe_b64encode(b"[" * 5000).decode(),
    "/api/v1/items?determinant=beauty",
    "/api/v1/satisfaction?window=99999999999d",
])
def test_out_of_range_ids_dates_and_cursors_are_refused_not_500(
    client: TestClient, admin: dict[str, str], path: str
) -> None:
    response = client.get(path, headers=admin)
    assert response.status_code in (400, 422), (response.status_code, response.text)
    assert response.json()["error"] == "InvalidRequest" and response.json()["detail"]


def test_huge_ids_in_writes_are_refused_not_500(client: TestClient,
                                                admin: dict[str, str]) -> None:
    put = client.put(f"/api/v1/items/{HUGE}/determinants/courtesy",
                     json={"polarity": "positive"}, headers=admin)
    upload = client.post(f"/api/v1/sources/{HUGE}/upload", headers=admin,
                         files={"file": ("a.csv", b"id;texte\n1;ok\n", "text/csv")})
    assert (put.status_code, upload.status_code) == (422, 422), (put.text, upload.text)


def _nested_extra(levels: int) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    inner = extra
    for _ in range(levels - 1):
        inner["a"] = {}
        inner = inner["a"]
    return extra


def test_a_record_nested_260_levels_is_refused_and_items_stay_readable(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = _push(client, admin, [
        {"external_id": "deep", "text": "Profond", "extra": _nested_extra(260)},
        {"external_id": "fine", "text": "Très bon accueil", "extra": {"guichet": 3}},
    ])
    assert body["run"]["new"] == 1
    assert [p["index"] for p in body["rejected"]] == [0]
    assert "ECOUTE_JSON_MAX_DEPTH" in body["rejected"][0]["reason"]
    listing = client.get("/api/v1/items", headers=admin)
    assert listing.status_code == 200
    assert [i["external_id"] for i in listing.json()["items"]] == ["fine"]


def test_an_item_stored_with_a_deep_extra_does_not_break_the_listing(
    client: TestClient, admin: dict[str, str], factory: sessionmaker[Session]
) -> None:
    _push(client, admin, [{"external_id": "old", "text": "Stocké avant les limites"}])
    with session_scope(factory) as session:  # as an earlier version let it in
        session.execute(update(Item).values(extra=_nested_extra(300)))
    listing = client.get("/api/v1/items", headers=admin)
    assert listing.status_code == 200, listing.text
    assert "not_shown" in listing.json()["items"][0]["extra"]


@pytest.mark.parametrize("body", [
    "[" * 1000 + "]" * 1000,
    json.dumps([{"external_id": "x", "text": "t"}])[:-1] + "," + "[" * 1000 + "]" * 1000 + "]",
])
def test_a_body_nested_1000_levels_is_a_4xx(client: TestClient, admin: dict[str, str],
                                            body: str) -> None:
    response = client.post("/api/v1/ingest", content=body.encode(), headers=admin)
    assert response.status_code == 400, response.text
    assert "ECOUTE_JSON_MAX_DEPTH" in response.json()["hint"]


def test_an_ndjson_line_nested_1000_levels_is_quarantined_alone(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = ('{"external_id": "ok", "text": "Accueil parfait"}\n'
            + '{"external_id": "deep", "text": "x", "extra": ' + "[" * 1000 + "]" * 1000 + "}\n")
    response = client.post("/api/v1/ingest", content=body.encode(),
                           headers={**admin, "Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    assert response.json()["run"]["new"] == 1
    assert [p["index"] for p in response.json()["rejected"]] == [1]


def test_a_large_extra_is_quarantined_with_the_setting_named(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = _push(client, admin, [{"external_id": "big", "text": "Gros",
                                  "extra": {"blob": "x" * 70_000}}])
    assert "ECOUTE_PUSH_EXTRA_MAX_BYTES" in body["rejected"][0]["reason"]


# --- bodies bounded while they arrive -----------------------------------------------------------

PRELUDE = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
           b"Content-Type: text/csv\r\n\r\n")


def _send_upload(app: Any, chunks: int, chunk: bytes, headers: list[tuple[bytes, bytes]]
                 ) -> tuple[int, int, dict[str, Any]]:
    """POST an upload of ``chunks`` × ``chunk`` straight into the ASGI app; (status, chunks the
    app asked for, body)."""
    asked = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        if asked > chunks:
            return {"type": "http.disconnect"}
        prelude = PRELUDE if asked == 1 else b""
        return {"type": "http.request", "body": prelude + chunk, "more_body": asked < chunks}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/api/v1/sources/1/upload",
             "raw_path": b"/api/v1/sources/1/upload", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"), *headers], "client": ("127.0.0.1", 1),
             "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], asked, json.loads(body)


def test_a_150_mb_upload_gets_its_413_without_being_read_whole(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    app = create_app(settings.model_copy(update={"data_dir": tmp_path / "data",
                                                 "upload_max_bytes": 10_000_000}), engine)
    megabyte = b"x" * 1_000_000
    boundary = [(b"content-type", b"multipart/form-data; boundary=b")]
    # Announced: refused before a single byte is read.
    status, asked, body = _send_upload(app, 150, megabyte,
                                       [*boundary, (b"content-length", b"150000000")])
    assert (status, asked) == (413, 0)
    assert "ECOUTE_UPLOAD_MAX_BYTES" in body["hint"]
    # Chunked, no length: refused once the limit is passed, the rest never read.
    status, asked, body = _send_upload(app, 150, megabyte, boundary)
    assert status == 413 and asked <= 12, asked
    assert body["error"] == "PayloadTooLarge"


def test_a_chunked_ingest_over_its_limit_is_a_413(engine: Engine, settings: Settings,
                                                  tmp_path: Path, admin: dict[str, str]) -> None:
    app = create_app(settings.model_copy(update={"data_dir": tmp_path / "data",
                                                 "ingest_max_bytes": 2048}), engine)
    client = TestClient(app, raise_server_exceptions=False)

    def body() -> Any:
        for n in range(100):
            yield (json.dumps({"external_id": str(n), "text": "x" * 100}) + "\n").encode()

    response = client.post("/api/v1/ingest", content=body(), headers=admin)
    assert response.status_code == 413 and "ECOUTE_INGEST_MAX_BYTES" in response.json()["hint"]
    assert client.get("/api/v1/health").status_code == 200
