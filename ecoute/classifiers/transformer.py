"""A sentiment model from any transformers sequence-classification folder.

Batched, length-sorted (so padding stays small), truncated to ``max_length``, under
``torch.inference_mode``. Heads with 2, 3 or 5 classes are mapped to negative/neutral/positive.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from ecoute.domain import SentimentScores
from ecoute.errors import ModelError

# Label names seen in published sentiment models, mapped to our three classes.
_KNOWN_LABELS = {
    "negative": "negative", "neg": "negative", "neutral": "neutral", "neu": "neutral",
    "positive": "positive", "pos": "positive", "label_0": None, "label_1": None, "label_2": None,
    "1 star": "negative", "2 stars": "negative", "3 stars": "neutral", "4 stars": "positive",
    "5 stars": "positive",
}


def label_mapping(labels: Sequence[str]) -> list[list[float]]:
    """Weights turning the model's N output probabilities into (neg, neu, pos).

    Names are used when they are known; otherwise the position decides: 2 classes are
    (negative, positive), 3 are (negative, neutral, positive), 5 are star ratings.
    """
    names = [_KNOWN_LABELS.get(str(label).strip().lower()) for label in labels]
    n = len(labels)
    if any(name is None for name in names):
        by_position = {
            2: ["negative", "positive"],
            3: ["negative", "neutral", "positive"],
            5: ["negative", "negative", "neutral", "positive", "positive"],
        }
        if n not in by_position:
            raise ModelError(
                f"cannot map a {n}-class head to negative/neutral/positive: labels {list(labels)}",
                hint="set ECOUTE_MODEL_LABELS to the meaning of each output, in order",
            )
        names = list(by_position[n])
    index = {"negative": 0, "neutral": 1, "positive": 2}
    weights = [[0.0, 0.0, 0.0] for _ in range(n)]
    for i, name in enumerate(names):
        assert name is not None
        weights[i][index[name]] = 1.0
    return weights


def folder_version(folder: Path) -> str:
    """A short fingerprint of the model's files, so a changed model re-tags items."""
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json"):
        path = folder / name
        if path.is_file():
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}".encode())
            if stat.st_size < 2_000_000 or name == "config.json":
                digest.update(path.read_bytes())
            else:  # large weights: the head and tail identify them well enough, cheaply
                with path.open("rb") as fh:
                    digest.update(fh.read(1_000_000))
                    fh.seek(-1_000_000, os.SEEK_END)
                    digest.update(fh.read())
    return digest.hexdigest()[:12]


class TransformerSentiment:
    """Sentiment scores from a transformers sequence-classification model folder."""

    def __init__(
        self,
        folder: Path,
        *,
        labels: Sequence[str] | None = None,
        batch_size: int = 32,
        max_length: int = 256,
        threads: int = 0,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # progress bars on stderr would garble the CLI

        if not (folder / "config.json").is_file():
            raise ModelError(
                f"{folder} is not a transformers model folder (no config.json)",
                hint="point ECOUTE_MODEL_DIR at a folder saved with save_pretrained()",
            )
        if threads:
            torch.set_num_threads(threads)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
            self.model = AutoModelForSequenceClassification.from_pretrained(str(folder))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load the model in {folder}: {exc}") from exc
        self.model.eval()
        config_labels = [
            self.model.config.id2label[i] for i in range(self.model.config.num_labels)
        ]
        self._weights = torch.tensor(label_mapping(labels or config_labels))
        self.batch_size = batch_size
        self.max_length = min(max_length, _position_limit(self.tokenizer, self.model.config))
        self.name = getattr(self.model.config, "_name_or_path", "") or folder.name
        self.name = Path(self.name).name or folder.name
        self.version = folder_version(folder)

    def score(self, texts: Sequence[str]) -> list[SentimentScores]:
        import torch

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        results: list[SentimentScores | None] = [None] * len(texts)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                encoded = self.tokenizer(
                    [texts[i] or " " for i in idx], padding=True, truncation=True,
                    max_length=self.max_length, return_tensors="pt",
                )
                probs = torch.softmax(self.model(**encoded).logits.float(), dim=-1)
                mapped = (probs @ self._weights).tolist()
                for i, row in zip(idx, mapped, strict=True):
                    results[i] = SentimentScores.from_list(row)
        return [r for r in results if r is not None]



def _position_limit(tokenizer: object, config: object) -> int:
    """Longest input the model accepts: its position table, less RoBERTa's padding offset."""
    limits = []
    declared = getattr(tokenizer, "model_max_length", None)
    if isinstance(declared, int) and declared < 100_000:  # "unset" is a huge sentinel
        limits.append(declared)
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int):
        offset = 2 if getattr(config, "model_type", "") in {"roberta", "xlm-roberta",
                                                            "camembert"} else 0
        limits.append(positions - offset)
    return min(limits) if limits else 512
