"""Classified feedback written straight into a test database, rollups included (through the
store's own ``record_predictions``), for the digest tests."""

from __future__ import annotations

import hashlib
from datetime import datetime
from itertools import count

from sqlalchemy.orm import Session

from ecoute.domain import DeterminantMention, Prediction, SentimentScores
from ecoute.store.authorities import ensure_authority
from ecoute.store.models import Authority, Item, Source
from ecoute.store.sources import add_source
from ecoute.store.taggings import record_predictions

_ids = count(1)


def authority(session: Session, slug: str = "valmont", tz: str = "Europe/Paris",
              locale: str = "fr") -> Authority:
    return ensure_authority(session, slug, name=slug.title(), timezone=tz, locale=locale)


def source(session: Session, owner: Authority, name: str, **fields: object) -> Source:
    created = add_source(session, owner.id, name=name, kind="rss",
                         options={"url": f"file:///{name}.rss"})
    for key, value in fields.items():
        setattr(created, key, value)
    return created


def feedback(session: Session, origin: Source, when: datetime,
             mentions: list[tuple[str, str]], *, text: str | None = None,
             channel: str = "review", confidence: float = 0.9, times: int = 1,
             department_id: int | None = None) -> list[Item]:
    """``times`` classified items published at ``when``, each mentioning every (determinant,
    polarity) of ``mentions`` over its whole text."""
    items = []
    for _ in range(times):
        n = next(_ids)
        body = text or f"avis {n}: " + ", ".join(f"{d} {p}" for d, p in mentions)
        items.append(Item(
            authority_id=origin.authority_id, source_id=origin.id, external_id=f"x{n}",
            content_hash=hashlib.sha256(f"{n}{body}".encode()).hexdigest(), channel=channel,
            text=body, published_at=when, department_id=department_id))
    session.add_all(items)
    session.flush()
    overall = "negative" if any(p == "negative" for _, p in mentions) else "positive"
    scores = SentimentScores(negative=0.9 if overall == "negative" else 0.05, neutral=0.05,
                             positive=0.9 if overall == "positive" else 0.05)
    predictions = [Prediction(sentiment=scores, determinants=[
        DeterminantMention(d, p, confidence, 0, len(item.text)) for d, p in mentions])
        for item in items]
    record_predictions(session, items, predictions, model_name="test", model_version="t1")
    return items
