"""/metrics: Prometheus text with store figures and this process's counters."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.config.settings import Settings
from ecoute.store import sources as source_repo
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import Item, Tagging
from tests.helpers.seed import seed


def test_metrics_report_items_quarantine_queue_and_health(
    engine: Engine, factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    sid = seed(factory, settings, tmp_path, ["friendly staff", "rude staff", "open on tuesday"])
    with session_scope(factory) as session:
        source_repo.add_quarantine(session, source_id=sid, run_id=None, payload="<bad",
                                   position="entry 4", error_class="ParseError", message="m")
    with TestClient(create_app(settings, engine)) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text) for s in family.samples
    }
    source = (("authority", "demo"), ("source", "feedback"))
    assert samples[("ecoute_items", (*source[:1], ("channel", "review"), source[1]))] == 3
    assert samples[("ecoute_quarantine_unresolved", source)] == 1
    assert samples[("ecoute_classify_queue", ())] == 3
    assert samples[("ecoute_source_consecutive_failures", source)] == 0
    assert samples[("ecoute_source_last_success_timestamp_seconds", source)] > 1.7e9
    assert ("ecoute_items_classified_total", ()) in samples


def test_the_classify_queue_counts_what_a_new_model_has_to_tag_again(
    engine: Engine, factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    seed(factory, settings, tmp_path, ["friendly staff", "rude staff", "open on tuesday"])
    with session_scope(factory) as session:
        items = list(session.scalars(select(Item).order_by(Item.id)))
        for item in items:
            item.classified_version = "model@1"
        # A new model has started: it tagged the first item, the others wait for it.
        items[0].classified_version = "model@2"
        session.add(Tagging(item_id=items[0].id, model_name="model", model_version="model@2",
                            sentiment="positive", p_negative=0, p_neutral=0, p_positive=1))
    with TestClient(create_app(settings, engine)) as client:
        response = client.get("/metrics")
    samples = {s.name: s.value for family in text_string_to_metric_families(response.text)
               for s in family.samples if not s.labels}
    assert samples["ecoute_classify_queue"] == 2


def test_metrics_need_an_installation_admin_key_where_reads_do(
    engine: Engine, factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        scoped = create_key(session, role="admin", authority=valmont)[1]
        viewer = create_key(session, role="viewer", authority=valmont)[1]
        scraper = create_key(session, role="admin", authority=None)[1]
    prod = settings.model_copy(update={"env": "prod", "pseudonym_key": "k" * 32})
    with TestClient(create_app(prod, engine)) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401 and "--role admin" in refused.json()["hint"]
        assert refused.headers["www-authenticate"].startswith("Bearer")
        for token in (scoped, viewer):
            answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 403, token
        allowed = client.get("/metrics", headers={"Authorization": f"Bearer {scraper}"})
        assert allowed.status_code == 200 and "ecoute_classify_queue" in allowed.text
    opened = prod.model_copy(update={"api_anonymous_read": True})
    with TestClient(create_app(opened, engine)) as client:
        assert client.get("/metrics").status_code == 200
