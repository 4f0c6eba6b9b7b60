"""Tuning the encoder's top layers: the cached bottom, the low-rank layers, the whole run.

All on the tiny two-layer model built from scratch (``tests/helpers/tiny_model.py``), so the
real loading path (``AutoModel.from_pretrained`` on a saved folder) is exercised in seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ecoute.classifiers.e5.delta import load_delta
from ecoute.classifiers.e5.encoder import E5Encoder
from ecoute.classifiers.training.encoder_tuning import TuningOptions, tune_encoder
from ecoute.classifiers.training.frozen_bottom import TokenStates, bottom_states
from ecoute.classifiers.training.lowrank import TopLayers, batch_tensors, pool_weights, pooled
from tests.helpers.tiny_model import NEGATIVE, NEUTRAL, POSITIVE

BASE = "0" * 64


def _load(folder: Path) -> tuple[torch.nn.Module, object]:
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(folder), add_pooling_layer=False).eval()
    return model, AutoTokenizer.from_pretrained(str(folder))


def test_top_layers_on_cached_states_pool_as_the_encoder_does(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    model, tokenizer = _load(tiny_model_dir)
    texts = ["friendly staff but horrible waiting", "merci", "the bus stops here"]
    def read() -> TokenStates:
        return bottom_states(model, tokenizer, tiny_model_dir, texts, first_tuned=1,
                             prefix="query: ", max_length=64, cache_dir=tmp_path)

    states = read()
    again = read()
    np.testing.assert_array_equal(states.states, again.states)  # read back from disk
    top = TopLayers(model, 1, rank=2, alpha=4.0)
    hidden, mask = batch_tensors(states, [0, 1, 2])
    spans = [(0, 14), None, None]
    with torch.inference_mode():
        got = pooled(
            top.forward(hidden, mask), pool_weights(states, [0, 1, 2], spans, hidden.shape[1])
        ).numpy()
    encoder = E5Encoder(tiny_model_dir, layers=(-1,))
    expected = encoder.encode(texts, [[(0, 14)], [], []])
    # B starts at zero: the tuned layers are the plain ones, up to the float16 cache.
    np.testing.assert_allclose(got[0], expected.segments[0][0], atol=5e-3)
    np.testing.assert_allclose(got[1:], expected.items[1:], atol=5e-3)


def test_merged_delta_gives_the_low_rank_layers_output(tiny_model_dir: Path) -> None:
    model, tokenizer = _load(tiny_model_dir)
    plain, _ = _load(tiny_model_dir)
    top = TopLayers(model, 1, rank=2, alpha=4.0, seed=3)
    for p in top.parameters():
        p.data.normal_(0, 0.3)  # a trained-looking delta, not the zero start
    delta = top.delta(BASE)
    weights = {k: v.numpy().copy() for k, v in plain.state_dict().items()}
    delta.merge(weights)
    plain.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    batch = tokenizer(
        ["query: rude staff", "query: great welcome thank you"], padding=True, return_tensors="pt"
    )
    with torch.inference_mode():
        merged = plain(**batch).last_hidden_state
        wrapped = model(**batch).last_hidden_state
        untouched = _load(tiny_model_dir)[0](**batch).last_hidden_state
    torch.testing.assert_close(merged, wrapped, atol=1e-4, rtol=1e-4)
    assert (merged - untouched).abs().max() > 1e-2


def _xlmt(root: Path) -> Path:
    for lang in ("english", "french"):
        folder = root / lang
        folder.mkdir(parents=True)
        texts = NEGATIVE + NEUTRAL + POSITIVE
        labels = [0] * len(NEGATIVE) + [1] * len(NEUTRAL) + [2] * len(POSITIVE)
        for split in ("train", "val"):
            (folder / f"{split}_text.txt").write_text("\n".join(texts) + "\n")
            (folder / f"{split}_labels.txt").write_text("\n".join(map(str, labels)) + "\n")
    return root


def _items(path: Path) -> Path:
    rows = ["text,sentiment,determinants"]
    rows += [f"{t},positive,courtesy:positive" for t in POSITIVE[:8]]
    rows += [f"{t},negative,waiting_time:negative" for t in NEGATIVE[:8]]
    rows += [f"{t},neutral," for t in NEUTRAL[:6]]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("minutes", [None, 0.0])
def test_tune_encoder_runs_and_writes_a_small_delta(
    tiny_model_dir: Path,
    tmp_path: Path,
    minutes: float | None,
) -> None:
    model, tokenizer = _load(tiny_model_dir)
    logs: list[str] = []
    result = tune_encoder(
        model,
        tokenizer,
        tiny_model_dir,
        xlmt=_xlmt(tmp_path / "xlmt"),
        apc=None,
        items=_items(tmp_path / "items.csv"),
        exclude=None,
        output=tmp_path / "heads" / "encoder-delta.safetensors",
        cache_dir=tmp_path / "cache",
        base_sha256=BASE,
        log=logs.append,
        options=TuningOptions(
            tuned_layers=1, rank=2, epochs=1.0, batch_size=8, probe_rows=20, max_minutes=minutes
        ),
    )
    assert result.delta_path is not None and result.delta_path.is_file()
    assert result.delta_path.name == (
        "encoder-delta.safetensors" if result.better else "encoder-delta.not-better.safetensors"
    )
    assert set(result.probe) == {"plain", "tuned"}
    assert result.checkpoints and all("selection" in c for c in result.checkpoints)
    assert any("held out" in line for line in logs)
    delta = load_delta(result.delta_path, base_sha256=BASE)
    assert len(delta.pairs) == 6  # every linear layer of the one tuned layer
    assert all(name.startswith("encoder.layer.1.") for name in delta.pairs)
    if minutes == 0.0:
        assert len(result.checkpoints) == 1  # stopped after its first step


def test_top_layers_encoder_matches_the_full_pass(tiny_model_dir: Path, tmp_path: Path) -> None:
    from ecoute.classifiers.training.top_encoder import TopLayersEncoder

    encoder = E5Encoder(tiny_model_dir, layers=(-2, -1), batch_size=2)
    texts = ["friendly staff but horrible waiting", "merci", "the bus stops here", "great"]
    store = bottom_states(
        encoder.model,
        encoder.tokenizer,
        tiny_model_dir,
        texts[:3],
        first_tuned=1,
        prefix="query: ",
        max_length=encoder.max_length,
        cache_dir=tmp_path,
    )
    with pytest.raises(ValueError, match="below the stored states"):
        TopLayersEncoder(encoder, {}, first=1)  # layer -2 is the first layer's output
    encoder = E5Encoder(tiny_model_dir, layers=(-1,), batch_size=2)
    fast = TopLayersEncoder(encoder, {t: (store, i) for i, t in enumerate(texts[:3])}, 1)
    spans = [[(0, 14), (15, 35)], [], [(4, 7)]]
    got, expected = fast.encode(texts[:3], spans), encoder.encode(texts[:3], spans)
    np.testing.assert_allclose(got.items, expected.items, atol=5e-3)
    for g, e in zip(got.segments, expected.segments, strict=True):
        np.testing.assert_allclose(g, e, atol=5e-3)
    # A text without stored states goes through the whole encoder.
    np.testing.assert_array_equal(fast.encode(texts).items, encoder.encode(texts).items)
