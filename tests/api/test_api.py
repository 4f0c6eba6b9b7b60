"""The HTTP API on a migrated database filled through the real collector and classifier."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.classifiers.determinants import load_lexicon
from ecoute.classifiers.lexicon_tagger import LexiconSentenceClassifier
from ecoute.classifiers.transformer import TransformerSentiment
from ecoute.classifiers.pending import classify_pending
from ecoute.config.settings import Settings
from tests.helpers.seed import seed

TEXTS = [
    "Accueil chaleureux merci",
    "Personnel très aimable",
    "Attente interminable au guichet.",
    "Friendly staff but 40 minutes of waiting.",
    "The office is on main street",
    "Accueil minable !",
]


@pytest.fixture
def client(engine: Engine, factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
           tiny_model_dir: Path) -> TestClient:
    seed(factory, settings, tmp_path, TEXTS)
    classifier = LexiconSentenceClassifier(TransformerSentiment(tiny_model_dir), load_lexicon())
    classify_pending(factory, classifier)
    return TestClient(create_app(settings.model_copy(update={"min_sample_size": 3}), engine))


def test_health(client: TestClient) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok" and body["schema_revision"]


def test_health_says_when_the_schema_is_behind(engine: Engine, settings: Settings) -> None:
    from alembic import command

    from ecoute.store.db import alembic_config

    command.downgrade(alembic_config(engine), "-1")
    body = TestClient(create_app(settings, engine)).get("/api/v1/health").json()
    assert body["status"] == "schema_out_of_date" and body["schema_revision"]


def test_satisfaction_per_determinant(client: TestClient) -> None:
    response = client.get("/api/v1/satisfaction", params={"window": "30d"})
    assert response.status_code == 200, response.text
    body = response.json()
    figures = {f["determinant"]: f for f in body["determinants"]}
    assert len(figures) == 7
    courtesy = figures["courtesy"]
    assert (courtesy["positive"], courtesy["negative"], courtesy["n"]) == (3, 1, 4)
    assert courtesy["share_positive"] == pytest.approx(0.75)
    assert 0 < courtesy["ci_low"] < 0.75 < courtesy["ci_high"] <= 1
    assert courtesy["sufficient"] is True
    waiting = figures["waiting_time"]
    assert (waiting["positive"], waiting["negative"], waiting["sufficient"]) == (0, 2, False)
    assert figures["transfer_efficiency"]["share_positive"] is None
    assert body["overall"]["positive"] + body["overall"]["negative"] + \
        body["overall"]["neutral"] == 6


def test_satisfaction_window_excludes_older_items(client: TestClient) -> None:
    # Items are one day apart, newest first: a 2-day window sees only the first two.
    body = client.get("/api/v1/satisfaction", params={"window": "2d"}).json()
    figures = {f["determinant"]: f for f in body["determinants"]}
    assert figures["courtesy"]["positive"] == 2 and figures["waiting_time"]["n"] == 0


def test_bad_window_is_a_json_error(client: TestClient) -> None:
    response = client.get("/api/v1/satisfaction", params={"window": "a month"})
    assert response.status_code == 400
    assert response.json()["error"] == "InvalidRequest"
    assert "30d" in response.json()["hint"]


def test_unknown_authority_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/satisfaction", params={"authority": "nowhere"})
    assert response.status_code == 404
    assert response.json() == {"error": "AuthorityNotFound", "detail": "no authority 'nowhere'",
                               "hint": response.json()["hint"]}


def test_items_filters_and_cursor_pagination(client: TestClient) -> None:
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/items", params=params).json()
        seen.extend(i["id"] for i in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 6
    body = client.get("/api/v1/items", params={"limit": 10}).json()
    dates = [i["published_at"] for i in body["items"]]
    assert dates == sorted(dates, reverse=True)
    negative_courtesy = client.get(
        "/api/v1/items", params={"determinant": "courtesy", "polarity": "negative"}).json()
    assert [i["text"] for i in negative_courtesy["items"]] == ["Accueil minable !"]
    item = negative_courtesy["items"][0]
    assert item["sentiment"] == "negative" and item["determinants"][0]["provenance"] == "model"
    assert client.get("/api/v1/items", params={"channel": "social"}).json()["items"] == []
    assert len(client.get("/api/v1/items", params={"channel": "review"}).json()["items"]) == 6
    one = client.get(f"/api/v1/items/{item['id']}").json()
    assert one["text"] == "Accueil minable !"
    assert client.get("/api/v1/items/999999").json()["error"] == "ItemNotFound"


def test_items_date_range(client: TestClient) -> None:
    everything = client.get("/api/v1/items", params={"limit": 10}).json()["items"]
    newest = everything[0]["published_at"]
    older = client.get("/api/v1/items", params={"until": newest}).json()["items"]
    assert len(older) == 5
    assert client.get("/api/v1/items", params={"since": newest}).json()["items"][0][
        "published_at"] == newest


def test_bad_cursor_and_bad_enum_are_clear(client: TestClient) -> None:
    response = client.get("/api/v1/items", params={"cursor": "garbage"})
    assert response.status_code == 400 and response.json()["error"] == "InvalidRequest"
    response = client.get("/api/v1/items", params={"channel": "pigeon"})
    assert response.status_code == 422 and "channel" in response.json()["detail"]


def test_sources_health(client: TestClient) -> None:
    (source,) = client.get("/api/v1/sources").json()
    assert source["kind"] == "rss" and source["items"] == 6 and source["last_error"] is None


def test_officer_corrects_a_determinant(client: TestClient, factory: sessionmaker[Session]) -> None:
    from ecoute.store.api_keys import create_key
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope

    with session_scope(factory) as session:
        demo = get_authority(session, "demo")
        officer = create_key(session, role="officer", authority=demo, label="Mme Roux")[1]
        viewer = create_key(session, role="viewer", authority=demo)[1]
    item = client.get("/api/v1/items", params={"determinant": "courtesy",
                                               "polarity": "negative"}).json()["items"][0]
    url = f"/api/v1/items/{item['id']}/determinants/courtesy"
    assert client.put(url, json={"polarity": "positive"}).status_code == 401
    forbidden = client.put(url, json={"polarity": "positive"},
                           headers={"Authorization": f"Bearer {viewer}"})
    assert forbidden.status_code == 403
    headers = {"Authorization": f"Bearer {officer}"}
    corrected = client.put(url, json={"polarity": "positive"}, headers=headers).json()
    (tag,) = corrected["determinants"]
    assert (tag["determinant"], tag["polarity"], tag["provenance"]) == (
        "courtesy", "positive", "human")
    figures = {f["determinant"]: f for f in client.get("/api/v1/satisfaction").json()[
        "determinants"]}
    assert (figures["courtesy"]["positive"], figures["courtesy"]["negative"]) == (4, 0)
    removed = client.put(url, json={"polarity": None}, headers=headers).json()
    assert removed["determinants"] == []
    figures = {f["determinant"]: f for f in client.get("/api/v1/satisfaction").json()[
        "determinants"]}
    assert figures["courtesy"]["n"] == 3
    bad = client.put(f"/api/v1/items/{item['id']}/determinants/beauty",
                     json={"polarity": "positive"}, headers=headers)
    assert bad.status_code == 422 and "courtesy" in bad.json()["detail"]


def test_officer_corrects_the_sentiment_and_it_survives_a_new_model(
    client: TestClient, factory: sessionmaker[Session], tiny_model_dir: Path,
) -> None:
    from ecoute.store.api_keys import create_key
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope

    with session_scope(factory) as session:
        demo = get_authority(session, "demo")
        officer = create_key(session, role="officer", authority=demo)[1]
        viewer = create_key(session, role="viewer", authority=demo)[1]
    items = client.get("/api/v1/items").json()["items"]
    item = next(i for i in items if i["sentiment"] != "positive")
    before = client.get("/api/v1/satisfaction").json()["overall"]
    url = f"/api/v1/items/{item['id']}/sentiment"
    assert client.put(url, json={"sentiment": "positive"}).status_code == 401
    assert client.put(url, json={"sentiment": "positive"},
                      headers={"Authorization": f"Bearer {viewer}"}).status_code == 403
    headers = {"Authorization": f"Bearer {officer}"}
    corrected = client.put(url, json={"sentiment": "positive"}, headers=headers).json()
    assert (corrected["sentiment"], corrected["sentiment_provenance"]) == ("positive", "human")
    after = client.get("/api/v1/satisfaction").json()["overall"]
    assert after["positive"] == before["positive"] + 1
    assert after["negative"] + after["neutral"] == before["negative"] + before["neutral"] - 1

    # A new model version re-tags the item: the officer's reading stays, counted once.
    classifier = LexiconSentenceClassifier(TransformerSentiment(tiny_model_dir), load_lexicon())
    classifier.version = "retrained"  # type: ignore[misc]
    assert classify_pending(factory, classifier).classified == len(TEXTS)
    again = client.get(f"/api/v1/items/{item['id']}").json()
    assert (again["sentiment"], again["sentiment_provenance"]) == ("positive", "human")
    assert client.get("/api/v1/satisfaction").json()["overall"] == after

    reverted = client.put(url, json={"sentiment": None}, headers=headers).json()
    assert reverted["sentiment"] == item["sentiment"]
    assert reverted["sentiment_provenance"] == "model"
    assert client.get("/api/v1/satisfaction").json()["overall"] == before


def test_satisfaction_export_holds_the_figures_of_the_api(client: TestClient) -> None:
    for params in ({"window": "30d"}, {"window": "2d", "channel": "review"}):
        figures = client.get("/api/v1/satisfaction", params=params).json()
        response = client.get("/api/v1/exports/satisfaction.xlsx", params=params)
        assert response.status_code == 200, response.text
        import io

        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.content), read_only=True)
        try:
            rows = list(book["satisfaction"].iter_rows(values_only=True))
            about = dict(book["about"].iter_rows(min_row=2, max_col=2, values_only=True))
        finally:
            book.close()
        header = rows[0]
        exported = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
        for figure in [figures["overall"], *figures["determinants"]]:
            row = exported[figure["determinant"]]
            assert (row["positive"], row["negative"], row["neutral"], row["n"]) == (
                figure["positive"], figure["negative"], figure["neutral"], figure["n"])
            # XLSX keeps 15 significant digits.
            for name in ("share_positive", "ci_low", "ci_high"):
                assert row[name] == (None if figure[name] is None
                                     else pytest.approx(figure[name], rel=1e-12)), name
            assert row["sufficient"] == figure["sufficient"]
        assert about["window"] == params["window"] and about.get("channel") == params.get(
            "channel")
        assert str(about["start"])[:10] == figures["start"]
