"""Repository functions for the embeddings of negative items (``ItemEmbedding``).

Written with each classification (only for items the model reads as negative: emerging
topics are clusters of complaints), read back by day range, pruned after a few weeks.
Vectors are float16: a 384-wide embedding is 768 bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from ecoute.store.models import Item, ItemEmbedding


def forget_embeddings(session: Session, item_ids: Sequence[int]) -> None:
    if item_ids:
        session.execute(delete(ItemEmbedding).where(ItemEmbedding.item_id.in_(list(item_ids)))
                        .execution_options(synchronize_session=False))


def store_embeddings(session: Session, rows: Sequence[tuple[int, int, date, Sequence[float]]]
                     ) -> None:
    """``(item id, authority id, day, vector)`` rows, replacing what the items had."""
    forget_embeddings(session, [item_id for item_id, *_rest in rows])
    if rows:
        session.execute(insert(ItemEmbedding), [
            {"item_id": item_id, "authority_id": authority_id, "day": day,
             "vector": np.asarray(vector, dtype=np.float16).tobytes()}
            for item_id, authority_id, day, vector in rows])


@dataclass(frozen=True)
class EmbeddedItem:
    item_id: int
    day: date
    channel: str
    text: str
    title: str | None


def negative_embeddings(session: Session, authority_id: int, first: date, last: date
                        ) -> tuple[list[EmbeddedItem], np.ndarray]:
    """The embedded items of the days ``first``..``last`` that are still negative (a person
    may have corrected the sentiment since), and their vectors (one row each, float32)."""
    query = (
        select(ItemEmbedding.item_id, ItemEmbedding.day, ItemEmbedding.vector, Item.channel,
               Item.text, Item.title)
        .join(Item, Item.id == ItemEmbedding.item_id)
        .where(ItemEmbedding.authority_id == authority_id, ItemEmbedding.day >= first,
               ItemEmbedding.day <= last,
               or_(Item.human_sentiment.is_(None), Item.human_sentiment == "negative"))
        .order_by(ItemEmbedding.day, ItemEmbedding.item_id)
    )
    items: list[EmbeddedItem] = []
    vectors: list[np.ndarray] = []
    for item_id, day, vector, channel, text, title in session.execute(query):
        items.append(EmbeddedItem(item_id, day, channel, text, title))
        vectors.append(np.frombuffer(vector, dtype=np.float16))
    if not vectors or len({v.shape for v in vectors}) != 1:
        # Vectors of two encoders cannot be compared: keep those of the latest one.
        width = vectors[-1].shape if vectors else (0,)
        kept = [i for i, v in enumerate(vectors) if v.shape == width]
        items, vectors = [items[i] for i in kept], [vectors[i] for i in kept]
    matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, 0), np.float32)
    return items, matrix


def prune_embeddings(session: Session, before: date) -> int:
    """Delete the embeddings of items older than ``before``; returns how many."""
    result = session.execute(delete(ItemEmbedding).where(ItemEmbedding.day < before)
                             .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
