"""Drill-down over HTTP: the item filters, departments and sites, the exports, and unknown
query parameters refused; every endpoint scoped to the key's authority."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.config.settings import Settings
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import Places, ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.items import insert_items
from ecoute.store.models import Item, Site, Source, Tagging, utcnow

T0 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
#: (text, lang, department, site, model sentiment): Valmont's items, newest first.
VALMONT = [
    ("Réclamation : attente au guichet", "fr", "État civil", "Mairie annexe", "negative"),
    ("Accueil très aimable", "fr", "État civil", "Médiathèque", "positive"),
    ("=HYPERLINK(\"http://x\") the reading room is cold", "en", "Culture", "Médiathèque",
     "negative"),
    ("Rien à signaler", "fr", None, None, None),
]


def _add(session: Session, slug: str, rows: list[tuple[str, str, str | None, str | None,
                                                        str | None]]) -> None:
    authority = ensure_authority(session, slug)
    source = Source(authority_id=authority.id, kind="push", name=f"{slug} pushes", options={},
                    schedule="manual")
    session.add(source)
    session.flush()
    places = Places(authority.id)
    insert_items(session, [dict(
        authority_id=authority.id, source_id=source.id, external_id=f"{slug}-{n}",
        content_hash=f"{slug}{n}".ljust(64, "0"), channel="review", title=None, text=text,
        lang=lang, published_at=T0 - timedelta(days=n), collected_at=utcnow(), extra={},
        department_id=places.department_id(session, department),
        site_id=places.site_id(session, site), classified_version="m@1" if said else None)
        for n, (text, lang, department, site, said) in enumerate(rows)])
    for item in session.scalars(select(Item).where(Item.source_id == source.id)):
        said = rows[int(item.external_id.rsplit("-", 1)[1])][4]
        if said:
            session.add(Tagging(item_id=item.id, model_name="m", model_version="m@1",
                                sentiment=said, p_negative=0.2, p_neutral=0.3, p_positive=0.5))


@pytest.fixture
def tokens(factory: sessionmaker[Session]) -> dict[str, str]:
    """Items of two authorities; a viewer key of each and an installation admin key."""
    with session_scope(factory) as session:
        _add(session, "valmont", VALMONT)
        _add(session, "autreville", [("Réclamation d'Autreville", "fr", "Voirie", "Dépôt",
                                      "negative")])
        valmont = ensure_authority(session, "valmont")
        other = ensure_authority(session, "autreville")
        return {"valmont": create_key(session, role="viewer", authority=valmont)[1],
                "autreville": create_key(session, role="viewer", authority=other)[1],
                "admin": create_key(session, role="admin", authority=None)[1]}


@pytest.fixture
def client(engine: Engine, settings: Settings, tmp_path: Path) -> TestClient:
    return TestClient(create_app(settings.model_copy(update={
        "api_anonymous_read": False, "data_dir": tmp_path / "data"}), engine))


def _get(client: TestClient, token: str, path: str, **params: object) -> list[dict[str, object]]:
    response = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()["items"] if path == "/api/v1/items" else response.json()


def _texts(client: TestClient, token: str, **params: object) -> list[str]:
    return [str(i["text"]) for i in _get(client, token, "/api/v1/items", **params)]


def test_items_are_filtered_and_carry_their_department_and_site(
        client: TestClient, tokens: dict[str, str]) -> None:
    token = tokens["valmont"]
    items = _get(client, token, "/api/v1/items")
    assert [i["text"] for i in items] == [row[0] for row in VALMONT]
    assert [(i["department"], i["site"]) for i in items] == [(r[2], r[3]) for r in VALMONT]
    departments = {d["name"]: d["id"] for d in _get(client, token, "/api/v1/departments")}
    sites = {s["name"]: s["id"] for s in _get(client, token, "/api/v1/sites")}
    assert set(departments) == {"État civil", "Culture"}
    assert set(sites) == {"Mairie annexe", "Médiathèque"}
    assert items[0]["department_id"] == departments["État civil"]
    assert _texts(client, token, department_id=departments["Culture"]) == [VALMONT[2][0]]
    assert _texts(client, token, site_id=sites["Médiathèque"]) == [VALMONT[1][0], VALMONT[2][0]]
    assert _texts(client, token, sentiment="negative") == [VALMONT[0][0], VALMONT[2][0]]
    assert _texts(client, token, lang="en") == [VALMONT[2][0]]
    assert _texts(client, token, q="RECLAMATION") == [VALMONT[0][0]]
    assert _texts(client, token, q="reclamation", sentiment="positive") == []
    # Another authority's department is no filter of ours: nothing, not its items.
    theirs = _get(client, tokens["autreville"], "/api/v1/departments")[0]["id"]
    assert _texts(client, token, department_id=theirs) == []


def test_departments_sites_and_exports_answer_only_the_keys_authority(
        client: TestClient, tokens: dict[str, str]) -> None:
    token = tokens["autreville"]
    assert [d["name"] for d in _get(client, token, "/api/v1/departments")] == ["Voirie"]
    assert [s["name"] for s in _get(client, token, "/api/v1/sites")] == ["Dépôt"]
    exported = client.get("/api/v1/exports/items.csv", headers={"X-API-Key": token})
    texts = [row["text"] for row in csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff")))]
    assert texts == ["Réclamation d'Autreville"]
    for path in ("/api/v1/sites", "/api/v1/departments", "/api/v1/exports/items.csv",
                 "/api/v1/exports/items.xlsx", "/api/v1/exports/satisfaction.xlsx"):
        refused = client.get(path, params={"authority": "valmont"},
                             headers={"X-API-Key": token})
        assert refused.status_code == 403, (path, refused.text)
        assert client.get(path).status_code == 401, path
    # The installation's admin names the authority.
    admin = client.get("/api/v1/sites", params={"authority": "autreville"},
                       headers={"X-API-Key": tokens["admin"]})
    assert [s["name"] for s in admin.json()] == ["Dépôt"]


def test_the_csv_export_is_the_listing_with_the_same_filters(
        client: TestClient, tokens: dict[str, str], factory: sessionmaker[Session]) -> None:
    token = tokens["valmont"]
    with session_scope(factory) as session:
        library = session.scalar(select(Site.id).where(Site.name == "Médiathèque"))
    for params in ({}, {"site_id": library}, {"q": "accueil"}, {"sentiment": "negative"},
                   {"since": "2026-02-28", "until": "2026-03-01"}):
        response = client.get("/api/v1/exports/items.csv", params=params,
                              headers={"X-API-Key": token})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
        listed = _get(client, token, "/api/v1/items", **params)
        assert [int(r["id"]) for r in rows] == [i["id"] for i in listed], params
    rows = list(csv.DictReader(io.StringIO(client.get(
        "/api/v1/exports/items.csv", headers={"X-API-Key": token}).text.lstrip("\ufeff"))))
    assert rows[0]["department"] == "État civil" and rows[0]["sentiment"] == "negative"
    # A text a spreadsheet would run as a formula is written as text.
    assert rows[2]["text"].startswith("'=HYPERLINK")


def test_the_xlsx_export_holds_the_same_rows(client: TestClient,
                                             tokens: dict[str, str]) -> None:
    headers = {"X-API-Key": tokens["valmont"]}
    response = client.get("/api/v1/exports/items.xlsx", params={"lang": "fr"}, headers=headers)
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["items"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert [r[header.index("text")] for r in rows[1:]] == [
        r[0] for r in VALMONT if r[1] == "fr"]
    everything = load_workbook(io.BytesIO(client.get(
        "/api/v1/exports/items.xlsx", headers=headers).content), read_only=True)["items"]
    formula = [r for r in everything.iter_rows(values_only=True)][3][header.index("text")]
    assert formula == VALMONT[2][0]  # kept as text, not turned into a formula


@pytest.mark.parametrize(("path", "known"), [
    ("/api/v1/items", "sentiment"), ("/api/v1/satisfaction", "window"),
    ("/api/v1/sites", None), ("/api/v1/departments", None),
    ("/api/v1/exports/items.csv", "q"), ("/api/v1/exports/satisfaction.xlsx", "department_id"),
    ("/api/v1/sources", None), ("/api/v1/alerts", None),
])
def test_unknown_query_parameters_are_refused_naming_them(
        client: TestClient, tokens: dict[str, str], path: str, known: str | None) -> None:
    headers = {"X-API-Key": tokens["valmont"]}
    response = client.get(path, params={"sentimnet": "negative"}, headers=headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "InvalidRequest" and "'sentimnet'" in body["detail"]
    assert "authority" in body["hint"]  # the accepted ones are listed
    if known:
        assert known in body["hint"]
    assert client.get(path, headers=headers).status_code == 200
