"""PATCH/DELETE /api/v1/sources/{id} and /api/v1/quarantine over HTTP: roles and authority
scope as for the rest of the API."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.models import Item, Quarantine, Source
from tests.helpers.api import auth as _auth
from tests.helpers import documents as docs
from tests.helpers.seed import write_feed


def _feed_source(factory: sessionmaker[Session], tmp_path: Path, authority: str = "valmont"
                 ) -> int:
    feed = write_feed(tmp_path / f"{authority}.rss", ["Accueil aimable", "Attente longue"])
    with session_scope(factory) as session:
        return add_source(session, authority=authority, name="avis", kind="rss",
                          options={"url": str(feed)}).id


def _minutes_source(factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
                    authority: str = "valmont") -> int:
    folder = tmp_path / f"minutes-{authority}"
    folder.mkdir()
    docs.write_txt(folder / "conseil.txt")
    with session_scope(factory) as session:
        source_id = add_source(session, authority=authority, name="minutes", kind="documents",
                               options={"path": str(folder), "encoding": "ascii"}).id
    run_source(factory, settings, source_id)
    return source_id


def test_patch_source_needs_an_admin_key_of_its_authority(
    client: TestClient, keys: dict[str, str], factory: sessionmaker[Session], tmp_path: Path
) -> None:
    source_id = _feed_source(factory, tmp_path)
    body = {"schedule": "every 2 hours", "enabled": False, "options": {"channel": "review"}}
    url = f"/api/v1/sources/{source_id}"
    assert client.patch(url, json=body).status_code == 401
    for role in ("officer", "viewer", "ingest"):
        assert client.patch(url, json=body, headers=_auth(keys[role])).status_code == 403
    other = _feed_source(factory, tmp_path, "autreville")
    assert client.patch(f"/api/v1/sources/{other}", json=body,
                        headers=_auth(keys["admin"])).status_code == 404
    answer = client.patch(url, json=body, headers=_auth(keys["admin"]))
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert (got["schedule"], got["enabled"], got["health"]) == ("every 2 hours", False,
                                                                "disabled")
    assert got["options"]["channel"] == "review"
    bad = client.patch(url, json={"options": {"url": "htps://x"}}, headers=_auth(keys["admin"]))
    assert bad.status_code == 422 and "url" in bad.json()["detail"]
    bad = client.patch(url, json={"schedule": "sometimes"}, headers=_auth(keys["admin"]))
    assert bad.status_code == 422 and "schedule" in bad.json()["detail"]
    assert client.patch(f"/api/v1/sources/{other}", json=body,
                        headers=_auth(keys["global_admin"])).status_code == 200


def test_delete_source_with_or_without_its_items(
    client: TestClient, keys: dict[str, str], factory: sessionmaker[Session],
    settings: Settings, tmp_path: Path,
) -> None:
    source_id = _feed_source(factory, tmp_path)
    run_source(factory, settings, source_id)
    url = f"/api/v1/sources/{source_id}"
    assert client.delete(url, headers=_auth(keys["officer"])).status_code == 403
    kept = client.delete(url, params={"keep_items": True}, headers=_auth(keys["admin"]))
    assert kept.json() == {"id": source_id, "items_deleted": 0, "items_kept": True}
    assert client.get("/api/v1/sources", headers=_auth(keys["admin"])).json() == []
    # Removed, it can no longer be changed or removed again.
    assert client.delete(url, headers=_auth(keys["admin"])).status_code == 404
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 2

    second = _feed_source(factory, tmp_path)
    run_source(factory, settings, second)
    gone = client.delete(f"/api/v1/sources/{second}", headers=_auth(keys["admin"]))
    assert gone.json() == {"id": second, "items_deleted": 2, "items_kept": False}
    with session_scope(factory) as session:
        assert session.get(Source, second) is None


def test_quarantine_list_retry_dismiss(
    client: TestClient, keys: dict[str, str], factory: sessionmaker[Session],
    settings: Settings, tmp_path: Path,
) -> None:
    source_id = _minutes_source(factory, settings, tmp_path)
    _minutes_source(factory, settings, tmp_path, "autreville")
    listed = client.get("/api/v1/sources", headers=_auth(keys["viewer"])).json()
    assert [(s["health"], s["quarantined"]) for s in listed] == [("quarantine", 1)]

    page = client.get("/api/v1/quarantine", headers=_auth(keys["viewer"])).json()
    assert page["total"] == 1 and page["entries"][0]["source"] == "minutes"
    assert "payload" not in page["entries"][0]
    entry_id = page["entries"][0]["id"]
    assert client.get("/api/v1/quarantine", params={"source_id": source_id + 1000},
                      headers=_auth(keys["viewer"])).json()["total"] == 0
    assert client.get("/api/v1/quarantine", params={"limit": 1, "offset": 1},
                      headers=_auth(keys["viewer"])).json() == {"entries": [], "total": 1}
    everywhere = client.get("/api/v1/quarantine", params={"authority": "autreville"},
                            headers=_auth(keys["global_admin"])).json()
    assert everywhere["total"] == 1 and everywhere["entries"][0]["id"] != entry_id

    retry = f"/api/v1/quarantine/{entry_id}/retry"
    assert client.post(retry, headers=_auth(keys["viewer"])).status_code == 403
    other_entry = everywhere["entries"][0]["id"]
    assert client.post(f"/api/v1/quarantine/{other_entry}/retry",
                       headers=_auth(keys["officer"])).status_code == 404
    still = client.post(retry, headers=_auth(keys["officer"])).json()
    assert still["resolved"] is False and "ascii" in still["reason"]

    fixed = client.patch(f"/api/v1/sources/{source_id}", json={"options": {"encoding": None}},
                         headers=_auth(keys["admin"]))
    assert fixed.status_code == 200
    done = client.post(retry, headers=_auth(keys["officer"])).json()
    assert done["resolved"] is True and done["new"] == len(docs.FEEDBACK)
    assert client.post(retry, headers=_auth(keys["officer"])).status_code == 409
    assert client.get("/api/v1/quarantine", headers=_auth(keys["viewer"])).json()["total"] == 0
    resolved = client.get("/api/v1/quarantine", params={"resolved": True},
                          headers=_auth(keys["viewer"])).json()
    assert resolved["entries"][0]["resolved_at"] is not None

    dismiss = f"/api/v1/quarantine/{other_entry}/dismiss"
    assert client.post(dismiss, headers=_auth(keys["officer"])).status_code == 404
    dismissed = client.post(dismiss, headers=_auth(keys["global_admin"]))
    assert dismissed.status_code == 200 and dismissed.json()["resolved_at"] is not None
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Quarantine)
                              .where(Quarantine.resolved_at.is_(None))) == 0
