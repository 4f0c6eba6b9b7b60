"""Small linear heads on pooled embeddings, stored as tiny safetensors files.

A head is ``scores = x @ weight.T + bias`` followed by a softmax (one label among several:
sentiment) or a sigmoid per label (several labels at once: determinants), with a
``temperature`` fitted on held-out data so that probabilities mean what they say, and one
decision ``threshold`` per label for sigmoid heads. Everything needed to use the head again
(labels, pooling, prefix, encoder, training data, metrics) is in the file's metadata, so a
head is one self-describing file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ecoute.classifiers.char_ngrams import SparseRows
from ecoute.errors import ModelError

HEAD_FORMAT = 1


@dataclass
class LinearHead:
    """A linear classifier over embeddings, with its own description."""

    labels: list[str]
    weight: np.ndarray  # (n_labels, dim)
    bias: np.ndarray  # (n_labels,)
    activation: Literal["softmax", "sigmoid"] = "softmax"
    temperature: float = 1.0
    thresholds: list[float] | None = None  # sigmoid heads: one per label
    meta: dict[str, Any] = field(default_factory=dict)

    def logits(self, x: np.ndarray | SparseRows) -> np.ndarray:
        if isinstance(x, SparseRows):
            return (x.matmul_t(self.weight) + self.bias) / self.temperature
        return (np.asarray(x, dtype=np.float32) @ self.weight.T + self.bias) / self.temperature

    def probabilities(self, x: np.ndarray | SparseRows) -> np.ndarray:
        z = self.logits(x)
        if self.activation == "sigmoid":
            return sigmoid(z)
        return softmax(z)

    def to_bytes(self) -> bytes:
        """The head as a safetensors file (what :meth:`save` writes)."""
        from safetensors.numpy import save

        tensors = {
            # safetensors refuses views and non-contiguous arrays.
            # A wide head (the wording heads) is stored in half precision: 0.4 MB less per
            # language, and its probabilities move in the fourth decimal.
            "weight": np.ascontiguousarray(
                self.weight,
                dtype=np.float16 if self.weight.dtype == np.float16 else np.float32),
            "bias": np.ascontiguousarray(self.bias, dtype=np.float32),
        }
        header = {
            "format": str(HEAD_FORMAT),
            "labels": json.dumps(self.labels),
            "activation": self.activation,
            "temperature": repr(float(self.temperature)),
            "thresholds": json.dumps(self.thresholds),
            "meta": json.dumps(self.meta, ensure_ascii=False, sort_keys=True),
        }
        return bytes(save(tensors, metadata=header))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(self.to_bytes())
        tmp.chmod(0o644)  # heads ship in the package: readable by every user
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelError(f"cannot read the classifier head {path}: {exc}") from exc
        return cls.from_bytes(data, name=str(path))

    @classmethod
    def from_bytes(cls, data: bytes, *, name: str = "the classifier head") -> LinearHead:
        from safetensors import SafetensorError
        from safetensors.numpy import load

        try:
            tensors = load(data)
            size = int.from_bytes(data[:8], "little")
            header = json.loads(data[8 : 8 + size]).get("__metadata__") or {}
            weight, bias = tensors["weight"], tensors["bias"]
        except (ValueError, KeyError, SafetensorError) as exc:
            raise ModelError(f"cannot read {name}: {exc}") from exc
        if header.get("format") != str(HEAD_FORMAT):
            raise ModelError(
                f"{name} is a head of format {header.get('format')!r}, this ecoute reads "
                f"format {HEAD_FORMAT}",
                hint="retrain it with `ecoute train`",
            )
        activation = header.get("activation", "softmax")
        if activation not in ("softmax", "sigmoid"):
            raise ModelError(f"{name}: unknown head activation {activation!r}")
        return cls(
            labels=json.loads(header["labels"]),
            weight=weight,
            bias=bias,
            activation=activation,  # type: ignore[arg-type]
            temperature=float(header.get("temperature", "1.0")),
            thresholds=json.loads(header.get("thresholds", "null")),
            meta=json.loads(header.get("meta", "{}")),
        )


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Element-wise logistic function; scores are clipped where ``exp`` would overflow
    (weakly regularised heads give huge scores on items they are sure of)."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large scores."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def fit_linear(
    x: np.ndarray | SparseRows,
    y: np.ndarray,
    *,
    n_labels: int,
    activation: Literal["softmax", "sigmoid"] = "softmax",
    l2: float = 1e-3,
    sample_weight: np.ndarray | None = None,
    max_iter: int = 200,
    prior: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """L2-regularised logistic regression (multinomial or one-vs-rest) by L-BFGS.

    ``y`` is a vector of label indexes for softmax, a (n, n_labels) 0/1 matrix for sigmoid.
    ``sample_weight`` may be (n,) or, for sigmoid heads, (n, n_labels) with 0 where a label
    is unknown. With ``prior``, weights are pulled towards it instead of towards zero, so a
    few examples adjust an existing head without forgetting what it learnt. Deterministic.
    """
    import torch

    torch.manual_seed(0)
    # Sparse rows (a text's character n-grams: 65,536 columns, a few hundred used) stay
    # sparse: dense, one language's tweets alone would take a gigabyte.
    xt = (x.to_torch() if isinstance(x, SparseRows)
          else torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float64))
    yt = torch.as_tensor(np.ascontiguousarray(y))
    weights = torch.ones(len(x), dtype=torch.float64)
    if sample_weight is not None:
        weights = torch.as_tensor(sample_weight, dtype=torch.float64)
    # Normalised to a mean over items, whatever the shape of the weights.
    rows = float(weights.sum()) / (weights.shape[1] if weights.ndim == 2 else 1)
    weights = weights / max(rows, 1e-12)
    w0 = torch.zeros((n_labels, x.shape[1]), dtype=torch.float64)
    b0 = torch.zeros(n_labels, dtype=torch.float64)
    if prior is not None:
        w0 = torch.as_tensor(np.array(prior[0]), dtype=torch.float64)
        b0 = torch.as_tensor(np.array(prior[1]), dtype=torch.float64)
    w = w0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS(
        [w, b], lr=1.0, max_iter=max_iter, tolerance_grad=1e-7, line_search_fn="strong_wolfe"
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        z = xt @ w.T + b
        if activation == "softmax":
            losses = torch.nn.functional.cross_entropy(z, yt.long(), reduction="none")
        else:
            losses = torch.nn.functional.binary_cross_entropy_with_logits(
                z, yt.double(), reduction="none"
            )
            if weights.ndim == 1:
                losses = losses.sum(dim=1)
        loss = (losses * weights).sum() + l2 * ((w - w0) ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return w.detach().numpy().astype(np.float32), b.detach().numpy().astype(np.float32)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature minimising the log-loss of held-out ``logits`` (grid search)."""
    best, best_loss = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.25), np.log(4.0), 41)):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -float(logp[np.arange(len(y)), y].mean())
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best


def macro_f1(
    y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray, n_labels: int
) -> float:
    """Mean F1 over the labels present in either vector."""
    true, pred = np.asarray(y_true), np.asarray(y_pred)
    scores = []
    for k in range(n_labels):
        tp = int(((true == k) & (pred == k)).sum())
        fp = int(((true != k) & (pred == k)).sum())
        fn = int(((true == k) & (pred != k)).sum())
        if tp + fp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else 0.0
