"""An authority's own heads, refitted from its officers' corrections (``ecoute train
--from-corrections``).

The determinant head, the shared sentiment head and the judgement head (the sentiment of
feedback items) are refitted from the human tags and sentiments of one authority (see
``refit`` for the safeguards) and those that pass their check are stored in the authority's
database, where ``ClassifierPool`` picks them up. A new head changes the classifier's
version, so the next ``ecoute classify`` re-tags that authority's items — human tags and
sentiments stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.classifiers.determinants import cached_lexicon
from ecoute.classifiers.e5.classifier import judged
from ecoute.classifiers.heads import LinearHead
from ecoute.classifiers.loader import (
    DETERMINANT_HEAD,
    DETERMINANT_TASK,
    JUDGEMENT_HEAD,
    JUDGEMENT_TASK,
    SENTIMENT_HEAD,
    SENTIMENT_TASK,
    build_prototypes,
    shipped_heads_dir,
)
from ecoute.classifiers.training.embedding_cache import cached_encode
from ecoute.classifiers.training.evaluation import read_labelled_csv
from ecoute.classifiers.training.fit import Log, determinant_matrix
from ecoute.classifiers.training.jobs import _encoder
from ecoute.classifiers.training.refit import Refit, refit_determinant_head, refit_sentiment_head
from ecoute.config.settings import Settings
from ecoute.domain import DETERMINANTS, Polarity, Provenance
from ecoute.errors import AuthorityNotFound, ConfigError
from ecoute.store.db import session_scope
from ecoute.store.heads import save_authority_head
from ecoute.store.models import Authority, DeterminantTag, Item

#: Uncorrected items of the authority that anchor a refit to the shipped head.
ANCHOR_ITEMS = 200
#: Where ``--output`` writes each refitted head.
HEAD_FILES = {DETERMINANT_TASK: DETERMINANT_HEAD, SENTIMENT_TASK: SENTIMENT_HEAD,
              JUDGEMENT_TASK: JUDGEMENT_HEAD}


def corrections(session: Session, authority_id: int) -> list[tuple[Item, dict[str, bool]]]:
    """Items of the authority with human determinant tags: which determinants they have."""
    rows = session.execute(
        select(Item, DeterminantTag)
        .join(DeterminantTag, DeterminantTag.item_id == Item.id)
        .where(Item.authority_id == authority_id, DeterminantTag.provenance == Provenance.HUMAN)
        .order_by(Item.id)
    ).all()
    found: dict[int, tuple[Item, dict[str, bool]]] = {}
    for item, tag in rows:
        if tag.determinant not in DETERMINANTS:
            continue
        entry = found.setdefault(item.id, (item, {}))
        entry[1][tag.determinant] = tag.polarity != Polarity.NONE
    return list(found.values())


@dataclass
class CorrectionData:
    """What an authority's officers said, as texts, read in one transaction."""

    authority_id: int
    determinants: list[tuple[str, dict[str, bool]]]
    sentiments: list[tuple[str, str]]
    anchors: list[str]  # uncorrected items: the refit must keep agreeing with the shipped head
    #: Whether each sentiment correction, and each anchor, is feedback (not a social post):
    #: feedback is judged by the judgement head, so its corrections refit that head.
    feedback: list[bool] = field(default_factory=list)
    feedback_anchors: list[bool] = field(default_factory=list)


def read_corrections(session: Session, authority: str) -> CorrectionData:
    from ecoute.classifiers.pending import item_text

    found = session.scalars(select(Authority).where(Authority.slug == authority)).first()
    if found is None:
        raise AuthorityNotFound(f"no authority {authority!r}",
                                hint="see `ecoute sources list` for the authorities")
    determinants = [(item_text(item), labels) for item, labels in corrections(session, found.id)]
    sentiment_corrected = list(session.scalars(
        select(Item).where(Item.authority_id == found.id, Item.human_sentiment.is_not(None))
        .order_by(Item.id)))
    sentiments = [(item_text(item), item.human_sentiment or "") for item in sentiment_corrected]
    corrected = {text for text, _ in determinants} | {text for text, _ in sentiments}
    anchors = [(text, judged(item.channel)) for item, text in (
        (item, item_text(item)) for item in session.scalars(
            select(Item).where(Item.authority_id == found.id).order_by(Item.id.desc())
            .limit(ANCHOR_ITEMS + len(corrected)))) if text not in corrected][:ANCHOR_ITEMS]
    return CorrectionData(found.id, determinants, sentiments, [t for t, _ in anchors],
                          [judged(item.channel) for item in sentiment_corrected],
                          [feedback for _, feedback in anchors])


def train_from_corrections(
    settings: Settings, factory: sessionmaker[Session], authority: str, *,
    gold: Path | None = None, output: Path | None = None, log: Log = print,
) -> list[str]:
    """Refit the authority's heads with its human corrections, check them against the
    shipped heads and store those that pass in the authority's database.

    Returns one line per head: what was stored, or why the shipped head stays.
    """
    with session_scope(factory) as session:
        data = read_corrections(session, authority)
    if not data.determinants and not data.sentiments:
        raise ConfigError(
            f"authority {authority!r} has no human correction yet",
            hint="correct some tags or sentiments in the dashboard or through the API first",
        )
    shipped = shipped_heads_dir()
    if not (shipped / DETERMINANT_HEAD).is_file():
        raise ConfigError(f"no shipped determinant head in {shipped}",
                          hint="train one with `ecoute train --gold FILE`")
    encoder = _encoder(settings)
    cache = settings.cache_dir / "embeddings"
    # The cues the shipped head was trained to mute or weaken, so its inputs mean the same.
    lexicon = cached_lexicon(settings.determinants_file).with_stored_choices(
        LinearHead.load(shipped / DETERMINANT_HEAD).meta)
    prototypes = build_prototypes(encoder, lexicon, settings)
    anchors = determinant_matrix(encoder, data.anchors, lexicon, prototypes, cache) \
        if data.anchors else np.zeros((0, 0), np.float32)
    results: list[tuple[str, Refit]] = []
    if data.determinants:
        base = LinearHead.load(shipped / DETERMINANT_HEAD)
        x = determinant_matrix(encoder, [t for t, _ in data.determinants], lexicon, prototypes,
                               cache)
        y = np.zeros((len(x), len(DETERMINANTS)), dtype=np.float32)
        known = np.zeros_like(y)  # a correction says nothing about the other determinants
        for i, (_, labels) in enumerate(data.determinants):
            for name, present in labels.items():
                k = DETERMINANTS.index(name)
                y[i, k], known[i, k] = float(present), 1.0
        check = None
        if gold is not None:
            extra = [it for it in read_labelled_csv(gold) if it.determinants is not None]
            if extra:
                check = (determinant_matrix(encoder, [it.text for it in extra], lexicon,
                                            prototypes, cache),
                         np.array([[float(any(d == n for d, _ in it.determinants or ()))
                                    for n in DETERMINANTS] for it in extra], dtype=np.float32))
        anchor_x = anchors if len(data.anchors) else np.zeros((0, x.shape[1]), np.float32)
        results.append((DETERMINANT_TASK, refit_determinant_head(
            base, x, y, known, anchor_x, min_corrections=settings.min_corrections, check=check)))
    if data.sentiments:
        base = LinearHead.load(shipped / SENTIMENT_HEAD)
        texts = [t for t, _ in data.sentiments] + data.anchors
        items = cached_encode(encoder, texts, None, cache).items
        polarities = np.array([base.labels.index(s) for _, s in data.sentiments],
                              dtype=np.int64)
        results.append((SENTIMENT_TASK, refit_sentiment_head(
            base, items[: len(polarities)], polarities, items[len(polarities):],
            min_corrections=settings.min_corrections)))
        if (shipped / JUDGEMENT_HEAD).is_file() and any(data.feedback):
            # Feedback takes its sentiment from the judgement head: without this refit, a
            # corrected complaint would be judged as before.
            judgement = LinearHead.load(shipped / JUDGEMENT_HEAD)
            own = [i for i, feedback in enumerate(data.feedback) if feedback]
            anchored = [len(data.sentiments) + i
                        for i, feedback in enumerate(data.feedback_anchors) if feedback]
            results.append((JUDGEMENT_TASK, refit_sentiment_head(
                judgement, items[own], polarities[own], items[anchored],
                min_corrections=settings.min_corrections, name="judgement head")))
    lines = []
    with session_scope(factory) as session:
        for task, refit in results:
            lines.append(refit.reason)
            if refit.head is None:
                continue
            refit.head.meta.update(
                task=task, authority=authority, corrections=refit.metrics.get("corrections"),
                training_data=f"{refit.head.meta.get('training_data', 'shipped head')}, then "
                f"corrections by humans at {authority}")
            blob = refit.head.to_bytes()
            save_authority_head(session, data.authority_id, task, blob, refit.metrics)
            if output is not None:
                refit.head.save(output / HEAD_FILES[task])
    if any(refit.head is not None for _, refit in results):
        lines.append("re-tag the authority's items with `ecoute classify`")
    for line in lines:
        log(line)
    return lines
