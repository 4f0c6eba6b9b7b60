"""Linear heads: training, calibration, and files that reload to the same predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecoute.classifiers.heads import LinearHead, fit_linear, fit_temperature, macro_f1
from ecoute.errors import ModelError


def blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 16)) * 3
    y = np.repeat(np.arange(3), 40)
    return (centres[y] + rng.normal(size=(120, 16))).astype(np.float32), y


def test_softmax_head_learns_and_reloads_identically(tmp_path: Path) -> None:
    x, y = blobs()
    w, b = fit_linear(x, y, n_labels=3, l2=1e-3)
    # A transposed (Fortran-ordered) weight must still be saved: safetensors wants C order.
    head = LinearHead(["negative", "neutral", "positive"], np.asfortranarray(w), b,
                      temperature=fit_temperature(x @ w.T + b, y), meta={"layers": [-1]})
    assert macro_f1(y, head.probabilities(x).argmax(1), 3) > 0.95
    head.save(tmp_path / "h.safetensors")
    again = LinearHead.load(tmp_path / "h.safetensors")
    assert again.labels == head.labels and again.meta == {"layers": [-1]}
    assert again.temperature == head.temperature
    x2, _ = blobs(seed=1)
    np.testing.assert_array_equal(again.probabilities(x2), head.probabilities(x2))


def test_sigmoid_head_with_thresholds_and_masked_labels(tmp_path: Path) -> None:
    x, y = blobs()
    multi = np.stack([y == 0, y == 2], axis=1).astype(np.float32)
    mask = np.ones_like(multi)
    mask[:, 1] = 0  # second label unknown everywhere: its weights stay at the prior (zero)
    w, b = fit_linear(x, multi, n_labels=2, activation="sigmoid", l2=1e-3, sample_weight=mask)
    assert np.abs(w[1]).max() == 0 and b[1] == 0
    head = LinearHead(["a", "b"], w, b, "sigmoid", thresholds=[0.3, 0.7])
    head.save(tmp_path / "d.safetensors")
    again = LinearHead.load(tmp_path / "d.safetensors")
    assert again.thresholds == [0.3, 0.7] and again.activation == "sigmoid"
    probs = again.probabilities(x)
    assert ((probs[:, 0] >= 0.5) == (y == 0)).mean() > 0.95


def test_prior_keeps_a_head_where_data_is_silent() -> None:
    x, y = blobs()
    w0, b0 = fit_linear(x, y, n_labels=3, l2=1e-3)
    w, _b = fit_linear(x[:3], y[:3], n_labels=3, l2=10.0, prior=(w0, b0))
    assert np.abs(w - w0).max() < 0.05 * np.abs(w0).max()


def test_unreadable_or_foreign_head_is_a_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelError):
        LinearHead.load(bad)
    from safetensors.numpy import save_file

    save_file({"weight": np.zeros((1, 2), np.float32), "bias": np.zeros(1, np.float32)},
              str(tmp_path / "old.safetensors"), metadata={"format": "0"})
    with pytest.raises(ModelError, match="retrain"):
        LinearHead.load(tmp_path / "old.safetensors")
