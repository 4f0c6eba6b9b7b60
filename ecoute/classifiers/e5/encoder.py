"""One forward pass per item, pooled over the whole item and over each segment's tokens.

The encoder is multilingual-e5-small (or any BERT-like folder loaded with ``AutoModel``).
Items are sorted by length and batched so that padding stays small; each item is encoded
once with its ``query: `` prefix, and the tokenizer's offset mapping tells which tokens fall
in which segment (a sentence or a contrasted clause), so segment embeddings cost nothing
more than a mean over a slice. Segment tokens are contextual: "slow" in "friendly staff but
slow service" has seen the whole sentence, which is what the per-segment heads expect.

Embeddings are the mean of the selected hidden layers' token vectors (attention mask
applied; CLS and SEP included for the whole item, as e5 was trained), L2-normalised per
layer and concatenated: several upper layers carry more sentiment than the last one alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecoute.errors import ModelError

#: Hidden layers pooled by default (negative indexes count from the top).
DEFAULT_LAYERS: tuple[int, ...] = (-1,)


@dataclass
class Encoded:
    """Pooled embeddings of a batch of items: ``items[i]`` and ``segments[i][j]``."""

    items: np.ndarray  # (n_items, dim)
    segments: list[np.ndarray]  # one (n_segments_i, dim) array per item


class E5Encoder:
    """Mean-pooled embeddings of items and of character spans inside them."""

    def __init__(
        self,
        folder: Path,
        *,
        prefix: str = "query: ",
        layers: Sequence[int] = DEFAULT_LAYERS,
        batch_size: int = 32,
        max_length: int = 256,
        threads: int = 0,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        if threads:
            torch.set_num_threads(threads)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
            self.model = AutoModel.from_pretrained(str(folder), add_pooling_layer=False)
        except (OSError, ValueError, TypeError) as exc:
            raise ModelError(f"cannot load the encoder in {folder}: {exc}") from exc
        if not getattr(self.tokenizer, "is_fast", False):
            raise ModelError(
                f"the tokenizer in {folder} has no offset mapping (not a fast tokenizer)",
                hint="use a folder with a tokenizer.json",
            )
        self.model.eval()
        self.folder = folder
        self.prefix = prefix
        self.layers = tuple(layers)
        self.batch_size = batch_size
        self.max_length = max_length
        self.dim = int(self.model.config.hidden_size) * len(self.layers)

    def encode(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]] | None = None
    ) -> Encoded:
        """Embeddings of ``texts`` and of the character ``spans`` of each text."""
        import torch

        spans = spans if spans is not None else [[] for _ in texts]
        n = len(texts)
        items = np.zeros((n, self.dim), dtype=np.float32)
        segments: list[np.ndarray] = [
            np.zeros((len(s), self.dim), dtype=np.float32) for s in spans
        ]
        order = sorted(range(n), key=lambda i: len(texts[i]))
        shift = len(self.prefix)
        with torch.inference_mode():
            for start in range(0, n, self.batch_size):
                idx = order[start : start + self.batch_size]
                encoded = self.tokenizer(
                    [self.prefix + (texts[i] or " ") for i in idx], padding=True,
                    truncation=True, max_length=self.max_length, return_tensors="pt",
                    return_offsets_mapping=True, return_special_tokens_mask=True,
                )
                offsets = encoded.pop("offset_mapping").numpy() - shift
                special = encoded.pop("special_tokens_mask").numpy().astype(bool)
                mask = encoded["attention_mask"]
                out = self.model(**encoded, output_hidden_states=len(self.layers) > 1)
                if len(self.layers) > 1:
                    hidden = torch.cat([out.hidden_states[k] for k in self.layers], dim=-1)
                else:
                    hidden = out.last_hidden_state
                hidden_np = hidden.float().numpy()
                mask_np = mask.numpy().astype(bool)
                for row, i in enumerate(idx):
                    items[i] = self._pool(hidden_np[row][mask_np[row]])
                    content = mask_np[row] & ~special[row]
                    # The prefix's own tokens end at or before 0 once shifted.
                    content &= offsets[row, :, 1] > 0
                    for j, (s, e) in enumerate(spans[i]):
                        inside = content & (offsets[row, :, 0] < e) & (offsets[row, :, 1] > s)
                        # A span cut off by truncation falls back to the whole item.
                        segments[i][j] = (
                            self._pool(hidden_np[row][inside]) if inside.any() else items[i]
                        )
        return Encoded(items=items, segments=segments)

    def _pool(self, vectors: np.ndarray) -> np.ndarray:
        """Mean over tokens, then L2-normalised per layer block."""
        mean = vectors.mean(axis=0)
        blocks = mean.reshape(len(self.layers), -1)
        norms = np.linalg.norm(blocks, axis=1, keepdims=True)
        return (blocks / np.maximum(norms, 1e-12)).reshape(-1).astype(np.float32)
