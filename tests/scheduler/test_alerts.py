"""Alerts as jobs: every authority each night (embeddings past every window pruned), and after
classification batches at most every ``alerts_every_seconds``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.scheduler.alerts import nightly_alerts
from ecoute.config.settings import Settings
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.embeddings import store_embeddings
from ecoute.store.models import Alert, Item, ItemEmbedding
from ecoute.store.sources import add_source
from ecoute.scheduler.workers import Worker

NOW = datetime(2026, 6, 30, 4, 41, tzinfo=UTC)


def test_nightly_evaluates_every_authority_and_prunes_old_embeddings(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    with session_scope(factory) as session:
        for slug in ("valmont", "autreville"):
            authority = ensure_authority(session, slug)
            source = add_source(session, authority.id, name="avis", kind="rss", options={},
                                schedule="every 1 hour")
            source.created_at = NOW - timedelta(days=2)  # never succeeded since
        demo = ensure_authority(session, "demo")
        push = add_source(session, demo.id, name="push", kind="push", options={})
        ids = [session.execute(insert(Item).values(
            authority_id=demo.id, source_id=push.id, external_id=str(n), content_hash=str(n),
            channel="email", text="t", extra={}).returning(Item.id)).scalar_one()
            for n in range(2)]
        # 7 + 28 days of windows and 7 of margin: 42 days are kept.
        store_embeddings(session, [(ids[0], demo.id, date(2026, 5, 18), [1.0]),
                                   (ids[1], demo.id, date(2026, 5, 19), [1.0])])
    outcome = nightly_alerts(factory, settings, now=NOW)
    assert sorted(outcome.values()) == [(0, 0), (1, 0), (1, 0)]
    with session_scope(factory) as session:
        assert sorted(a.title.split(" (")[0] for a in session.scalars(select(Alert))) == [
            "Source 'avis'", "Source 'avis'"]
        assert list(session.scalars(select(ItemEmbedding.item_id))) == [ids[1]]


def test_alerts_follow_classification_batches_at_most_every_few_minutes(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluated: list[list[int]] = []
    monkeypatch.setattr("ecoute.scheduler.workers.evaluate_authorities",
                        lambda _factory, _settings, ids, reader: evaluated.append(list(ids)))
    clock = iter([1000.0, 1100.0, 1100.0, 1301.0])
    monkeypatch.setattr("ecoute.scheduler.workers.time.monotonic", lambda: next(clock))
    worker = Worker(engine, settings.model_copy(update={"alerts_every_seconds": 300}))
    for authority_id in (1, 1, 2, 1):  # at 1000, 1100, 1100 and 1301 seconds
        worker._alerts_after_batch(authority_id)
    assert evaluated == [[1], [2], [1]]
