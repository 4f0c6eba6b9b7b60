"""Span pooling on one forward pass, checked on the tiny model built from scratch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ecoute.classifiers.e5.encoder import E5Encoder
from ecoute.classifiers.sentences import split_segments


def test_segment_embedding_is_the_mean_of_its_tokens(tiny_model_dir: Path) -> None:
    encoder = E5Encoder(tiny_model_dir, prefix="query: ", batch_size=4)
    text = "friendly staff but horrible waiting"
    segments = split_segments(text)
    assert [s.text for s in segments] == ["friendly staff", "but horrible waiting"]
    encoded = encoder.encode([text], [[(s.start, s.end) for s in segments]])
    tok = encoder.tokenizer("query: " + text, return_offsets_mapping=True, return_tensors="pt")
    offsets = tok.pop("offset_mapping")[0].numpy() - len("query: ")
    with torch.inference_mode():
        hidden = encoder.model(**tok).last_hidden_state[0].numpy()
    for seg, got in zip(segments, encoded.segments[0], strict=True):
        inside = (offsets[:, 0] < seg.end) & (offsets[:, 1] > seg.start) & (offsets[:, 1] > 0)
        # [CLS]/[SEP] have empty offsets and the prefix ends before 0: neither is counted.
        expected = hidden[inside].mean(axis=0)
        np.testing.assert_allclose(got, expected / np.linalg.norm(expected), atol=1e-5)
    whole = hidden.mean(axis=0)
    np.testing.assert_allclose(encoded.items[0], whole / np.linalg.norm(whole), atol=1e-5)


def test_batching_and_padding_do_not_change_embeddings(tiny_model_dir: Path) -> None:
    encoder = E5Encoder(tiny_model_dir, batch_size=3, layers=(-2, -1))
    texts = ["great welcome", "rude staff and horrible waiting forever at the counter", "",
             "merci", "accueil chaleureux merci. attente interminable"]
    spans = [[(0, 5)], [(0, 10), (15, 40)], [], [(0, 5)], [(0, 25), (27, 47)]]
    together = encoder.encode(texts, spans)
    assert together.items.shape == (5, encoder.dim) and encoder.dim == 64
    for i, text in enumerate(texts):
        alone = encoder.encode([text], [spans[i]])
        np.testing.assert_allclose(together.items[i], alone.items[0], atol=1e-4)
        np.testing.assert_allclose(together.segments[i], alone.segments[0], atol=1e-4)


def test_truncated_segment_falls_back_to_the_item(tiny_model_dir: Path) -> None:
    encoder = E5Encoder(tiny_model_dir, max_length=8)
    text = "great welcome " * 10 + "horrible waiting"
    encoded = encoder.encode([text], [[(0, 5), (len(text) - 16, len(text))]])
    np.testing.assert_array_equal(encoded.segments[0][1], encoded.items[0])
