"""GET /api/v1/alerts and POST /api/v1/alerts/{id}/resolve: scoped to the key's authority;
officers and admins resolve."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from ecoute.store.alerts import Finding, sync_alerts
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import AlertKind
from tests.helpers.api import auth as _auth


def _raise(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        for slug in ("valmont", "autreville"):
            authority = ensure_authority(session, slug)
            sync_alerts(session, authority.id, list(AlertKind), [
                Finding(AlertKind.DETERMINANT_DROP, "determinant_drop:courtesy",
                        f"Courtesy fell at {slug}", {"drop": 0.3}),
                Finding(AlertKind.SOURCE_SILENT, "source_silent:1", f"A source of {slug} "
                        "is silent", {"source": "avis"})])


def test_alerts_are_listed_and_resolved_within_the_keys_authority(
    client: TestClient, keys: dict[str, str],  # noqa: F811 (fixtures)
    factory: sessionmaker[Session],
) -> None:
    _raise(factory)
    viewer, officer = _auth(keys["viewer"]), _auth(keys["officer"])
    listed = client.get("/api/v1/alerts", headers=viewer)
    assert listed.status_code == 200, listed.text
    assert sorted(a["title"] for a in listed.json()) == ["A source of valmont is silent",
                                                          "Courtesy fell at valmont"]
    drop = next(a for a in listed.json() if a["kind"] == "determinant_drop")
    assert drop["active"] and drop["figures"] == {"drop": 0.3} and drop["resolved_at"] is None
    assert client.get("/api/v1/alerts?authority=autreville", headers=viewer).status_code == 403
    theirs = client.get("/api/v1/alerts?authority=autreville&kind=source_silent",
                        headers=_auth(keys["global_admin"])).json()
    assert [a["title"] for a in theirs] == ["A source of autreville is silent"]
    assert client.get("/api/v1/alerts?kind=rain", headers=viewer).status_code == 422

    url = f"/api/v1/alerts/{drop['id']}/resolve"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=viewer).status_code == 403
    other = theirs[0]["id"]
    assert client.post(f"/api/v1/alerts/{other}/resolve", headers=officer).status_code == 404
    resolved = client.post(url, headers=officer)
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert not body["active"] and body["resolved_by"].startswith("key:ek_")
    again = client.post(url, headers=officer)
    assert again.status_code == 409 and "already resolved" in again.json()["detail"]
    assert [a["id"] for a in client.get("/api/v1/alerts", headers=viewer).json()] != [drop["id"]]
    assert [a["id"] for a in client.get("/api/v1/alerts?state=resolved",
                                        headers=viewer).json()] == [drop["id"]]
    assert len(client.get("/api/v1/alerts?state=all", headers=viewer).json()) == 2
    # An installation admin resolves any authority's alert.
    assert client.post(f"/api/v1/alerts/{other}/resolve",
                       headers=_auth(keys["global_admin"])).status_code == 200
