"""Classifies pending items in batches: :func:`classify_batch` is the one way a batch is
taken, classified and written (the worker, ``ecoute classify`` and the demo all use it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.domain import Prediction
from ecoute.classifiers.base import Classifier
from ecoute.config.settings import Settings, get_settings
from ecoute.store.db import session_scope
from ecoute.store.items import needs_classifier, pending_item_ids
from ecoute.store.models import Authority, Item
from ecoute.store.routing import route_items
from ecoute.store.taggings import record_predictions

log = logging.getLogger(__name__)


def model_version(classifier: Classifier) -> str:
    """What ``Item.classified_version`` and ``Tagging.model_version`` record."""
    return f"{classifier.name}@{classifier.version}"[:128]


@dataclass
class ClassifyReport:
    classified: int = 0
    batches: int = 0


@dataclass(frozen=True)
class Batch:
    """What one :func:`classify_batch` did: the pending items it took and how many it wrote
    (fewer when the source changed some of them meanwhile: the next batch redoes those)."""

    taken: int
    classified: int


def classify_batch(
    factory: sessionmaker[Session],
    classifier: Classifier,
    *,
    size: int,
    authority_id: int | None = None,
    reader: sessionmaker[Session] | None = None,
    settings: Settings | None = None,
) -> Batch:
    """Classify up to ``size`` pending items (of one authority, when given) in one write.

    On PostgreSQL the items are claimed with ``FOR UPDATE SKIP LOCKED`` and written in the
    same transaction: concurrent workers never take the same item, and a worker that dies
    releases its rows with its connection. SQLite has one writer at a time, so the model
    runs outside the write transaction (read with ``reader``, by default ``factory``) and the
    write keeps only the items still pending and unchanged since they were read.

    Each batch is routed (department, follow-up) in the same transaction, on its predictions
    (the determinant and polarity rules need them), before they are counted: new items enter
    the rollups in their department.
    """
    settings = settings or get_settings()
    version = model_version(classifier)
    if factory.kw["bind"].dialect.name == "postgresql":
        with session_scope(factory) as session:
            items = _pending(session, version, size, authority_id)
            predictions = _predict(classifier, items)
            route_items(session, items, settings, predictions=predictions)
            record_predictions(session, items, predictions, model_name=classifier.name,
                               model_version=version)
        return Batch(len(items), len(items))
    with session_scope(reader or factory) as session:
        items = _pending(session, version, size, authority_id)
        seen = {item.id: item.content_hash for item in items}
    if not items:
        return Batch(0, 0)
    predicted = dict(zip(seen, _predict(classifier, items), strict=True))
    with session_scope(factory) as session:
        current = [
            item for item in session.scalars(
                select(Item).where(Item.id.in_(list(seen)), needs_classifier(version))
                .order_by(Item.id))
            # Changed since it was read (the source updated it): the next batch redoes it.
            if item.content_hash == seen[item.id]
        ]
        predictions = [predicted[i.id] for i in current]
        route_items(session, current, settings, predictions=predictions)
        record_predictions(session, current, predictions,
                           model_name=classifier.name, model_version=version)
    return Batch(len(items), len(current))


def _pending(session: Session, version: str, size: int, authority_id: int | None) -> list[Item]:
    ids = pending_item_ids(session, version, limit=size, authority_id=authority_id)
    if not ids:
        return []
    return list(session.scalars(select(Item).where(Item.id.in_(ids)).order_by(Item.id)))


def _predict(classifier: Classifier, items: list[Item]) -> list[Prediction]:
    """The classifier's reading of each item, spans placed in the stored text."""
    if not items:
        return []
    texts = [item_text(item) for item in items]
    return [in_item_text(p, title_offset(item), len(item.text))
            for item, p in zip(items, classifier.predict(texts, [item.channel for item in items]),
                               strict=True)]


def classify_pending(
    factory: sessionmaker[Session],
    classifier: Classifier,
    *,
    batch_size: int = 64,
    authority_id: int | None = None,
    max_items: int | None = None,
    progress: Callable[[int], None] | None = None,
    settings: Settings | None = None,
) -> ClassifyReport:
    """Classify every item not yet classified by this classifier's version, batch by batch
    (:func:`classify_batch`)."""
    report = ClassifyReport()
    while max_items is None or report.classified < max_items:
        size = batch_size if max_items is None else min(batch_size, max_items - report.classified)
        batch = classify_batch(factory, classifier, size=size, authority_id=authority_id,
                               settings=settings)
        if not batch.taken:
            break
        report.classified += batch.classified
        report.batches += 1
        if progress is not None:
            progress(batch.classified)
    return report


def item_text(item: Item) -> str:
    # Titles of reviews and posts often carry the verdict ("Accueil minable !").
    return f"{item.title}. {item.text}" if title_offset(item) else item.text


def title_offset(item: Item) -> int:
    """Where ``item.text`` starts in :func:`item_text` (0 when the title is not prepended)."""
    if item.title and item.title not in item.text:
        return len(item.title) + 2
    return 0


def in_item_text(prediction: Prediction, offset: int, length: int) -> Prediction:
    """``prediction`` with its spans moved from :func:`item_text` to the stored ``item.text``.

    Spans are shown against ``item.text`` and used to quote the sentence, so they must index
    it exactly; a mention found in the prepended title has no span in the text but still counts
    for the item.
    """
    if not offset:
        return prediction
    moved = []
    for m in prediction.determinants:
        if m.start is None or m.end is None:
            moved.append(m)
            continue
        start, end = max(m.start - offset, 0), min(m.end - offset, length)
        moved.append(replace(m, start=start, end=end) if end > start
                     else replace(m, start=None, end=None))
    return replace(prediction, determinants=moved)


def classify_each_authority(
    factory: sessionmaker[Session],
    classifier_for: Callable[[str], Classifier],
    *,
    batch_size: int = 64,
    max_items: int | None = None,
    progress: Callable[[int], None] | None = None,
    settings: Settings | None = None,
) -> ClassifyReport:
    """Classify pending items authority by authority, each with its own classifier (so an
    authority that trained heads from its corrections is re-tagged with them, and only it)."""
    with session_scope(factory) as session:
        authorities = [(a.id, a.slug) for a in session.scalars(select(Authority).order_by(
            Authority.id))]
    total = ClassifyReport()
    for authority_id, slug in authorities:
        left = None if max_items is None else max_items - total.classified
        if left is not None and left <= 0:
            break
        report = classify_pending(factory, classifier_for(slug), batch_size=batch_size,
                                  authority_id=authority_id, max_items=left, progress=progress,
                                  settings=settings)
        total.classified += report.classified
        total.batches += report.batches
    return total
