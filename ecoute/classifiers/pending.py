"""Classifies pending items in batches; each batch is one transaction."""

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
from ecoute.store.items import pending_item_ids
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
    """Classify every item not yet classified by this classifier's version, and route each
    batch (department, follow-up) in the same transaction."""
    settings = settings or get_settings()
    version = model_version(classifier)
    report = ClassifyReport()
    while max_items is None or report.classified < max_items:
        size = batch_size if max_items is None else min(batch_size, max_items - report.classified)
        with session_scope(factory) as session:
            ids = pending_item_ids(session, version, limit=size, authority_id=authority_id)
            if not ids:
                break
            items = list(session.scalars(select(Item).where(Item.id.in_(ids)).order_by(Item.id)))
            texts = [item_text(item) for item in items]
            predictions = [in_item_text(p, title_offset(item), len(item.text))
                           for item, p in zip(items, classifier.predict(texts), strict=True)]
            # Routed on this batch's predictions (the determinant and polarity rules need
            # them), before they are counted: new items enter the rollups in their department.
            route_items(session, items, settings, predictions=predictions)
            record_predictions(
                session, items, predictions, model_name=classifier.name, model_version=version
            )
        report.classified += len(items)
        report.batches += 1
        if progress is not None:
            progress(len(items))
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


#: Kept for callers that imported the former private name.
_text_of = item_text


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
