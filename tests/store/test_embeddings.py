"""Embeddings are kept with the classification, for negative items only, and pruned."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.domain import Prediction, SentimentScores
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.embeddings import negative_embeddings, prune_embeddings
from ecoute.store.models import Item, ItemEmbedding
from ecoute.store.sources import add_source
from ecoute.store.taggings import forget_classification, record_predictions

NEGATIVE = SentimentScores(0.8, 0.1, 0.1)
POSITIVE = SentimentScores(0.1, 0.1, 0.8)


def _stored(session: Session) -> dict[int, date]:
    return {e.item_id: e.day for e in session.scalars(select(ItemEmbedding))}


def test_negative_items_keep_their_embedding_until_they_change(
    factory: sessionmaker[Session],
) -> None:
    with session_scope(factory) as session:
        demo = ensure_authority(session, "demo", timezone="Europe/Paris")
        source = add_source(session, demo.id, name="s", kind="push", options={})
        # 30 March 22:30 UTC is already 31 March in Paris: the embedding's day is local.
        session.execute(insert(Item), [
            {"authority_id": demo.id, "source_id": source.id, "external_id": str(n),
             "content_hash": str(n), "channel": "email", "text": f"text {n}", "extra": {},
             "published_at": datetime(2026, 3, 30, 22, 30, tzinfo=UTC)} for n in range(3)])
        items = list(session.scalars(select(Item).order_by(Item.id)))
        record_predictions(session, items, [
            Prediction(NEGATIVE, embedding=(1.0, 0.0, 0.5)),
            Prediction(POSITIVE, embedding=(0.0, 1.0, 0.0)),
            Prediction(NEGATIVE)],  # a classifier without embeddings
            model_name="m", model_version="1")
        assert _stored(session) == {items[0].id: date(2026, 3, 31)}
        found, vectors = negative_embeddings(session, demo.id, date(2026, 3, 31),
                                             date(2026, 3, 31))
        assert [f.item_id for f in found] == [items[0].id]
        assert vectors.tolist() == [[1.0, 0.0, 0.5]] and vectors.dtype.name == "float32"
        # Read again by a new model as positive: no longer kept.
        record_predictions(session, items[:2], [Prediction(POSITIVE, embedding=(1.0, 0.0, 0.0)),
                                                Prediction(NEGATIVE, embedding=(0.0, 0.0, 1.0))],
                           model_name="m", model_version="2")
        assert set(_stored(session)) == {items[1].id}
        forget_classification(session, [items[1]])  # its text changed
        assert _stored(session) == {}
        record_predictions(session, items[:1], [Prediction(NEGATIVE, embedding=(1.0, 1.0))],
                           model_name="m", model_version="3")
        assert prune_embeddings(session, date(2026, 3, 31)) == 0
        assert prune_embeddings(session, date(2026, 4, 1)) == 1 and _stored(session) == {}
