"""Embeddings of the tuned encoder that reuse the frozen bottom's stored token states.

After ``--tune-encoder`` the heads are refitted on the tuned features of the same training
texts whose bottom-layer states are already on disk, so only the tuned top layers need to
run: a third of the full pass. The states are stored in float16 (``frozen_bottom``), so these
embeddings differ from the full pass in the third decimal at most; texts without stored
states (evaluation splits, example sentences) go through the full encoder.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ecoute.classifiers.e5.encoder import E5Encoder, Encoded
from ecoute.classifiers.training.frozen_bottom import TokenStates, extended_mask
from ecoute.classifiers.training.lowrank import batch_tensors


class TopLayersEncoder:
    """An :class:`E5Encoder` look-alike (same folder, pooling and cache keys) that runs
    only the layers from ``first`` up on texts found in ``known``."""

    def __init__(
        self, encoder: E5Encoder, known: dict[str, tuple[TokenStates, int]], first: int
    ) -> None:
        n_hidden = len(encoder.model.encoder.layer) + 1  # hidden states: embeddings, layers
        self.picks = [(k if k >= 0 else n_hidden + k) - first - 1 for k in encoder.layers]
        if min(self.picks) < 0:
            raise ValueError("the pooled layers start below the stored states")
        self.encoder, self.known, self.first = encoder, known, first
        self.folder, self.prefix, self.layers = encoder.folder, encoder.prefix, encoder.layers
        self.max_length, self.dim = encoder.max_length, encoder.dim
        self.batch_size = encoder.batch_size

    def encode(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]] | None = None,
    ) -> Encoded:
        import torch

        spans = spans if spans is not None else [[] for _ in texts]
        if not texts or not all(t in self.known for t in texts):
            return self.encoder.encode(texts, spans)
        states = TokenStates.concat([_one(*self.known[t]) for t in texts])
        items = np.zeros((len(texts), self.dim), dtype=np.float32)
        segments = [np.zeros((len(s), self.dim), dtype=np.float32) for s in spans]
        order = np.argsort(np.diff(states.bounds), kind="stable")
        layers = self.encoder.model.encoder.layer[self.first :]
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size].tolist()
                hidden, mask = batch_tensors(states, rows)
                ext, outputs = extended_mask(mask), []
                for layer in layers:
                    out = layer(hidden, attention_mask=ext)
                    hidden = out[0] if isinstance(out, tuple) else out
                    outputs.append(hidden)
                picked = torch.cat([outputs[k] for k in self.picks], dim=-1).numpy()
                for b, i in enumerate(rows):
                    lo, hi = int(states.bounds[i]), int(states.bounds[i + 1])
                    vectors = picked[b, : hi - lo]
                    items[i] = self.encoder._pool(vectors)
                    offsets, special = states.offsets[lo:hi], states.special[lo:hi]
                    content = ~special & (offsets[:, 1] > 0)
                    for j, (s, e) in enumerate(spans[i]):
                        inside = content & (offsets[:, 0] < e) & (offsets[:, 1] > s)
                        segments[i][j] = (
                            self.encoder._pool(vectors[inside]) if inside.any() else items[i]
                        )
        return Encoded(items=items, segments=segments)


def _one(store: TokenStates, i: int) -> TokenStates:
    lo, hi = int(store.bounds[i]), int(store.bounds[i + 1])
    return TokenStates(
        store.states[lo:hi],
        np.array([0, hi - lo], dtype=np.int64),
        store.offsets[lo:hi],
        store.special[lo:hi],
    )
