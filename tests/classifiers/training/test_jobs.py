"""Training writes its heads where the loader finds them, and leaves nothing stale."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecoute.classifiers.char_ngrams import WORDING_PREFIX
from ecoute.classifiers.e5.classifier import SHARED
from ecoute.classifiers.heads import LinearHead
from ecoute.classifiers.loader import head_files, wording_files
from ecoute.classifiers.training.jobs import write_sentiment_heads


def _head(columns: int, meta: dict[str, object]) -> LinearHead:
    return LinearHead(["negative", "neutral", "positive"], np.zeros((3, columns), np.float32),
                      np.zeros(3, np.float32), meta=dict(meta))


def test_sentiment_and_wording_heads_replace_every_older_one(tmp_path: Path) -> None:
    for old in ("sentiment.safetensors", "sentiment-hi.safetensors",
                f"{WORDING_PREFIX}hi.safetensors", "determinants.safetensors"):
        (tmp_path / old).write_bytes(b"old")
    heads = {SHARED: _head(4, {}), "fr": _head(4, {}),
             f"{WORDING_PREFIX}fr": _head(16, {"task": "wording", "blend": 0.2})}
    written = write_sentiment_heads(heads, tmp_path, {"layers": [-1]})
    assert sorted(p.name for p in written) == [
        "sentiment-fr.safetensors", "sentiment.safetensors", f"{WORDING_PREFIX}fr.safetensors"]
    # Hindi lost both its heads: none is left behind; other heads are not touched.
    assert set(head_files(tmp_path)) == {SHARED, "fr"}
    assert set(wording_files(tmp_path)) == {"fr"}
    assert (tmp_path / "determinants.safetensors").read_bytes() == b"old"
    # The encoder's description goes on the heads that read it, not on the wording heads.
    assert LinearHead.load(tmp_path / "sentiment-fr.safetensors").meta == {"layers": [-1]}
    assert "layers" not in LinearHead.load(tmp_path / f"{WORDING_PREFIX}fr.safetensors").meta
