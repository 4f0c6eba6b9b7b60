"""Embeddings of training and evaluation texts, cached on disk by content.

Training a head takes seconds; embedding its texts takes minutes on a CPU. The cache key
is the encoder folder, its pooling, the texts and their segment spans, so a changed text,
model or pooling is re-embedded and nothing stale is ever reused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ecoute.classifiers.e5.conversion import encoder_delta_sha
from ecoute.classifiers.e5.encoder import E5Encoder, Encoded


def cache_key(encoder: E5Encoder, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> str:
    digest = hashlib.sha256()
    model_meta = encoder.folder / "config.json"
    digest.update(model_meta.read_bytes() if model_meta.is_file() else b"")
    tuned = encoder_delta_sha(encoder.folder)
    if tuned:  # same config, other weights: the tuned layers' delta tells them apart
        digest.update(tuned.encode())
    digest.update(json.dumps([encoder.prefix, list(encoder.layers), encoder.max_length]).encode())
    for text, text_spans in zip(texts, spans, strict=True):
        digest.update(text.encode("utf-8", "replace") + b"\0")
        digest.update(json.dumps([list(s) for s in text_spans]).encode())
    return digest.hexdigest()[:24]


def cached_encode(
    encoder: E5Encoder,
    texts: Sequence[str],
    spans: Sequence[Sequence[tuple[int, int]]] | None,
    cache_dir: Path,
) -> Encoded:
    """``encoder.encode(texts, spans)``, read from ``cache_dir`` when done before."""
    spans = spans if spans is not None else [[] for _ in texts]
    path = cache_dir / f"emb-{cache_key(encoder, texts, spans)}.npz"
    if path.is_file():
        with np.load(path) as data:
            counts = data["counts"]
            flat = data["segments"]
            bounds = np.concatenate([[0], np.cumsum(counts)])
            return Encoded(
                items=data["items"],
                segments=[flat[bounds[i] : bounds[i + 1]] for i in range(len(counts))],
            )
    encoded = encoder.encode(texts, spans)
    cache_dir.mkdir(parents=True, exist_ok=True)
    counts = np.array([len(s) for s in encoded.segments], dtype=np.int64)
    flat = (
        np.concatenate(encoded.segments) if counts.sum() else np.zeros((0, encoder.dim), np.float32)
    )
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, items=encoded.items, segments=flat, counts=counts)
    tmp.replace(path)
    return encoded


class RememberedEncoder:
    """An encoder that answers from embeddings already computed for these texts and spans.

    Cross-validation classifies each fold's items and trains on the others: without it,
    every fold would run the encoder again over texts whose embeddings are on disk.
    Texts it does not know go to the real encoder.
    """

    def __init__(self, encoder: E5Encoder, texts: Sequence[str],
                 spans: Sequence[Sequence[tuple[int, int]]], cache_dir: Path) -> None:
        self.encoder = encoder
        self.folder, self.prefix = encoder.folder, encoder.prefix
        self.layers, self.max_length, self.dim = encoder.layers, encoder.max_length, encoder.dim
        encoded = cached_encode(encoder, texts, spans, cache_dir)
        self._known = {
            (text, json.dumps([list(s) for s in text_spans])): (encoded.items[i], encoded.segments[i])
            for i, (text, text_spans) in enumerate(zip(texts, spans, strict=True))
        }

    def encode(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]] | None = None,
    ) -> Encoded:
        spans = spans if spans is not None else [[] for _ in texts]
        keys = [(t, json.dumps([list(s) for s in sp])) for t, sp in zip(texts, spans, strict=True)]
        if not all(k in self._known for k in keys):
            return self.encoder.encode(texts, spans)
        return Encoded(items=np.stack([self._known[k][0] for k in keys]).reshape(len(keys), -1),
                       segments=[self._known[k][1] for k in keys])
