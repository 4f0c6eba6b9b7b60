"""Low-rank updates of the encoder's top layers, and the forward pass of those layers alone.

Each linear layer of the tuned BERT layers (attention query, key, value and output, the two
feed-forward matrices) is wrapped so that it computes ``x W^T + b + scale * x A^T B^T``;
``W`` and ``b`` stay frozen, ``B`` starts at zero so training starts from the encoder as it
is. The trained factors become an :class:`~ecoute.classifiers.e5.delta.EncoderDelta`, merged
into ``W`` when the encoder folder is converted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ecoute.classifiers.e5.delta import EncoderDelta
from ecoute.classifiers.training.frozen_bottom import TokenStates, extended_mask

#: The linear layers of a BERT layer that get a low-rank update.
TUNED_LINEARS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


def _low_rank_linear(base: Any, rank: int, scale: float, seed: int) -> Any:
    import torch
    from torch import nn

    class LowRankLinear(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.base = base
            for p in base.parameters():
                p.requires_grad_(False)
            gen = torch.Generator().manual_seed(seed)
            # A as in LoRA (Kaiming-uniform bound for the input size), B zero.
            bound = 1.0 / np.sqrt(base.in_features)
            self.a = nn.Parameter(
                (torch.rand(rank, base.in_features, generator=gen) * 2 - 1) * bound
            )
            self.b = nn.Parameter(torch.zeros(base.out_features, rank))
            self.scale = scale

        def forward(self, x: Any) -> Any:
            return self.base(x) + (x @ self.a.T @ self.b.T) * self.scale

    return LowRankLinear()


class TopLayers:
    """The encoder's layers from ``first`` up, with low-rank updates on their linears."""

    def __init__(self, model: Any, first: int, *, rank: int, alpha: float, seed: int = 0) -> None:
        self.layers = list(model.encoder.layer[first:])
        self.first = first
        self.scale = alpha / rank
        self.wrapped: dict[str, Any] = {}
        for p in model.parameters():
            p.requires_grad_(False)
        for offset, layer in enumerate(self.layers):
            for k, path in enumerate(TUNED_LINEARS):
                parent_path, _, leaf = path.rpartition(".")
                parent = layer.get_submodule(parent_path)
                module = _low_rank_linear(
                    getattr(parent, leaf), rank, self.scale, seed * 1000 + offset * 10 + k
                )
                setattr(parent, leaf, module)
                self.wrapped[f"encoder.layer.{first + offset}.{path}.weight"] = module

    def parameters(self) -> list[Any]:
        return [p for m in self.wrapped.values() for p in (m.a, m.b)]

    def forward(self, hidden: Any, mask: Any) -> list[Any]:
        """Each tuned layer's output for token states ``hidden`` (batch, tokens, dim)."""
        ext = extended_mask(mask)
        outputs = []
        for layer in self.layers:
            out = layer(hidden, attention_mask=ext)
            hidden = out[0] if isinstance(out, tuple) else out
            outputs.append(hidden)
        return outputs

    def delta(self, base_sha256: str) -> EncoderDelta:
        pairs = {
            name: (m.a.detach().numpy().copy(), m.b.detach().numpy().copy())
            for name, m in self.wrapped.items()
        }
        return EncoderDelta(pairs, self.scale, base_sha256)


def batch_tensors(states: TokenStates, rows: Sequence[int]) -> tuple[Any, Any]:
    """Right-padded float32 states and attention mask of the texts ``rows``."""
    import torch

    lengths = [int(states.bounds[r + 1] - states.bounds[r]) for r in rows]
    width = max(lengths)
    hidden = np.zeros((len(rows), width, states.states.shape[1]), dtype=np.float32)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        hidden[i, : lengths[i]] = states.states[states.bounds[r] : states.bounds[r + 1]]
        mask[i, : lengths[i]] = 1
    return torch.from_numpy(hidden), torch.from_numpy(mask)


def pool_weights(
    states: TokenStates, rows: Sequence[int], spans: Sequence[tuple[int, int] | None], width: int
) -> Any:
    """(batch, tokens) weights that average the tokens pooled for each row: all of the
    text's tokens (CLS and SEP too), or the content tokens overlapping its span — the
    classifier's own pooling (``E5Encoder.encode``)."""
    import torch

    weights = np.zeros((len(rows), width), dtype=np.float32)
    for i, (r, span) in enumerate(zip(rows, spans, strict=True)):
        lo, hi = int(states.bounds[r]), int(states.bounds[r + 1])
        if span is None:
            chosen = np.ones(hi - lo, dtype=bool)
        else:
            offsets = states.offsets[lo:hi]
            chosen = (
                (~states.special[lo:hi])
                & (offsets[:, 1] > 0)
                & (offsets[:, 0] < span[1])
                & (offsets[:, 1] > span[0])
            )
            if not chosen.any():  # cut off by truncation: the whole text, as the encoder does
                chosen = np.ones(hi - lo, dtype=bool)
        weights[i, : hi - lo] = chosen / chosen.sum()
    return torch.from_numpy(weights)


def pooled(outputs: Sequence[Any], weights: Any) -> Any:
    """Weighted token mean of each layer's output, L2-normalised per layer, concatenated."""
    import torch

    blocks = [
        torch.nn.functional.normalize(torch.einsum("bt,btd->bd", weights, out), dim=-1)
        for out in outputs
    ]
    return torch.cat(blocks, dim=-1)
