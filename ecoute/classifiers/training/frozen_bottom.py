"""The frozen bottom of the encoder, run once: token states where the tuned layers begin.

Tuning the encoder's top layers on two CPU cores is affordable only because the layers
below them never change: their output for a text is computed once, stored in float16 on
disk, and every epoch (and every re-embedding for the heads) runs the top layers alone on
it. A store is keyed by the model folder, the tokenizer settings and the texts, like the
embedding cache, so a changed text or model is recomputed and nothing stale is reused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class TokenStates:
    """Hidden states of every token of several texts, flat; text ``i`` owns
    ``states[bounds[i]:bounds[i + 1]]``. ``offsets`` are character offsets in the text
    itself (the prefix's tokens end at or before 0); ``special`` marks CLS and SEP."""

    states: np.ndarray  # (tokens, hidden) float16
    bounds: np.ndarray  # (n + 1,) int64
    offsets: np.ndarray  # (tokens, 2) int32
    special: np.ndarray  # (tokens,) bool

    def __len__(self) -> int:
        return len(self.bounds) - 1

    @staticmethod
    def concat(parts: Sequence[TokenStates]) -> TokenStates:
        lengths = np.concatenate([np.diff(p.bounds) for p in parts])
        return TokenStates(
            states=np.concatenate([p.states for p in parts]),
            bounds=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            offsets=np.concatenate([p.offsets for p in parts]),
            special=np.concatenate([p.special for p in parts]),
        )


def extended_mask(mask: Any) -> Any:
    """The additive attention mask BERT layers take: 0 where attended, -inf-like elsewhere."""
    import torch

    return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


def _key(folder: Path, texts: Sequence[str], first_tuned: int, prefix: str, max_length: int) -> str:
    digest = hashlib.sha256()
    for name in ("config.json", "ecoute_model.json"):
        path = folder / name
        digest.update(path.read_bytes() if path.is_file() else b"")
    digest.update(json.dumps([prefix, max_length, first_tuned]).encode())
    for text in texts:
        digest.update(text.encode("utf-8", "replace") + b"\0")
    return digest.hexdigest()[:24]


def bottom_states(
    model: Any,
    tokenizer: Any,
    folder: Path,
    texts: Sequence[str],
    *,
    first_tuned: int,
    prefix: str,
    max_length: int,
    cache_dir: Path,
    batch_size: int = 32,
) -> TokenStates:
    """The input of layer ``first_tuned`` for every token of ``texts``, from ``cache_dir``
    when computed before."""
    path = cache_dir / f"bottom-{_key(folder, texts, first_tuned, prefix, max_length)}.npz"
    if path.is_file():
        with np.load(path) as data:
            return TokenStates(data["states"], data["bounds"], data["offsets"], data["special"])
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    per_text: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = [None] * len(texts)
    shift = len(prefix)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            enc = tokenizer(
                [prefix + (texts[i] or " ") for i in idx],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
                return_offsets_mapping=True,
                return_special_tokens_mask=True,
            )
            offsets = enc.pop("offset_mapping").numpy() - shift
            special = enc.pop("special_tokens_mask").numpy().astype(bool)
            mask = enc["attention_mask"]
            hidden = model.embeddings(
                input_ids=enc["input_ids"], token_type_ids=torch.zeros_like(enc["input_ids"])
            )
            ext = extended_mask(mask)
            for layer in model.encoder.layer[:first_tuned]:
                out = layer(hidden, attention_mask=ext)
                hidden = out[0] if isinstance(out, tuple) else out
            hidden_np = hidden.numpy()
            lengths = mask.sum(1).tolist()
            for row, i in enumerate(idx):
                n = int(lengths[row])  # right padding: a text's tokens come first
                per_text[i] = (
                    hidden_np[row, :n].astype(np.float16),
                    offsets[row, :n].astype(np.int32),
                    special[row, :n],
                )
    done = [p for p in per_text if p is not None]
    result = TokenStates(
        states=np.concatenate([p[0] for p in done]),
        bounds=np.concatenate([[0], np.cumsum([len(p[0]) for p in done])]).astype(np.int64),
        offsets=np.concatenate([p[1] for p in done]),
        special=np.concatenate([p[2] for p in done]),
    )
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        states=result.states,
        bounds=result.bounds,
        offsets=result.offsets,
        special=result.special,
    )
    tmp.replace(path)
    return result
