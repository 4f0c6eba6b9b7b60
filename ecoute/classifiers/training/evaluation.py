"""Scores of a classifier on a labelled CSV file (``ecoute evaluate``).

The file has a ``text`` column and optionally ``lang``, ``sentiment``
(negative|neutral|positive), ``determinants`` (``name:polarity;…``, empty when none) and
``channel`` (``review``, ``complaint``, ``social``…: feedback is judged otherwise than social
posts, see ``E5Classifier``; a text without one is read as a social post is). XLM-T folders
are tweets: their channel is ``social``.
Sentiment is scored by accuracy and macro-F1 (overall and per language); determinants by
micro-F1 over (item, determinant) pairs — is the determinant there? — and over
(item, determinant, polarity) triples, plus precision/recall/F1 per determinant.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecoute.domain import SENTIMENTS, Channel, Prediction, DETERMINANTS
from ecoute.classifiers.base import Classifier
from ecoute.errors import ConfigError

POLARITIES = ("positive", "negative", "neutral")
CHANNELS = tuple(c.value for c in Channel)


@dataclass
class LabelledItem:
    text: str
    lang: str | None = None
    sentiment: str | None = None
    determinants: frozenset[tuple[str, str]] | None = None  # None: not annotated
    #: Where the text came from (``review``, ``complaint``, ``social``…); None: not known.
    #: Feedback is judged by the judgement head, social posts by the sentiment heads.
    channel: str | None = None


def parse_determinants(value: str, where: str) -> frozenset[tuple[str, str]]:
    pairs = set()
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        name, _, polarity = part.partition(":")
        name, polarity = name.strip(), polarity.strip() or "neutral"
        if name not in DETERMINANTS or polarity not in POLARITIES:
            raise ConfigError(
                f"{where}: cannot read determinant {part!r}",
                hint=f"write name:polarity with a name among {', '.join(DETERMINANTS)} and a "
                "polarity among positive, negative, neutral",
            )
        pairs.add((name, polarity))
    return frozenset(pairs)


def read_labelled_csv(path: Path) -> list[LabelledItem]:
    """The rows of an evaluation CSV; errors name the file and line."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "text" not in reader.fieldnames:
                raise ConfigError(
                    f"{path} has no `text` column",
                    hint="the header must name `text` and optionally `lang`, `sentiment`, "
                    "`determinants`, `channel`",
                )
            has_dets = "determinants" in reader.fieldnames
            items = []
            for row in reader:
                where = f"{path}, line {reader.line_num}"
                sentiment = (row.get("sentiment") or "").strip().lower() or None
                if sentiment is not None and sentiment not in SENTIMENTS:
                    raise ConfigError(f"{where}: unknown sentiment {sentiment!r}",
                                      hint="use negative, neutral or positive")
                channel = (row.get("channel") or "").strip().lower() or None
                if channel is not None and channel not in CHANNELS:
                    raise ConfigError(f"{where}: unknown channel {channel!r}",
                                      hint=f"use one of {', '.join(CHANNELS)}, or leave it empty")
                items.append(LabelledItem(
                    text=row["text"] or "",
                    lang=(row.get("lang") or "").strip() or None,
                    sentiment=sentiment,
                    determinants=parse_determinants(row.get("determinants") or "", where)
                    if has_dets else None,
                    channel=channel,
                ))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", hint="give a UTF-8 CSV file") from exc
    return items


#: XLM-T labels, in the TweetEval convention.
XLMT_LABELS = ("negative", "neutral", "positive")


def read_labelled(path: Path, *, split: str = "val") -> list[LabelledItem]:
    """A labelled CSV file, or an XLM-T sentiment folder (one language folder holding
    ``{split}_text.txt``/``{split}_labels.txt``, or the folder of all the languages)."""
    if path.is_dir():
        return read_xlmt_folders(path, split)
    return read_labelled_csv(path)


def read_xlmt_folders(path: Path, split: str = "val") -> list[LabelledItem]:
    from ecoute.classifiers.training.fit import XLMT_LANGUAGES, read_xlmt_split

    if (path / f"{split}_text.txt").is_file():
        folders = [path]
    else:
        folders = sorted(p for p in path.iterdir() if (p / f"{split}_text.txt").is_file())
    if not folders:
        raise ConfigError(
            f"{path} holds no {split}_text.txt, neither itself nor in a language folder",
            hint="give a labelled CSV file, an XLM-T language folder or the folder of them all",
        )
    items = []
    for folder in folders:
        found = read_xlmt_split(folder, split)
        lang = XLMT_LANGUAGES.get(folder.name, folder.name)
        # Tweets: read as social posts are.
        items += [LabelledItem(text=text, lang=lang, sentiment=XLMT_LABELS[int(label)],
                               channel=Channel.SOCIAL.value)
                  for text, label in zip(found.texts, found.labels, strict=True)]
    return items


def _f1(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def sentiment_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    n = len(gold)
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / n if n else 0.0
    f1s = []
    for label in SENTIMENTS:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        if tp + fp + fn:  # a label absent from both gold and predictions says nothing
            f1s.append(2 * tp / (2 * tp + fp + fn))
    return {"n": n, "accuracy": round(accuracy, 4),
            "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else 0.0}


def predicted_pairs(prediction: Prediction) -> frozenset[tuple[str, str]]:
    """One polarity per determinant per item: the one with the most confidence behind it."""
    weight: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for m in prediction.determinants:
        weight[m.determinant][m.polarity] += max(m.confidence, 1e-6)
    return frozenset((d, max(w, key=w.__getitem__)) for d, w in weight.items())


def score(
    items: Sequence[LabelledItem], predictions: Sequence[Prediction], *, intervals: bool = False,
) -> dict[str, Any]:
    """The metrics of ``predictions`` against the labels of ``items``; with ``intervals``,
    their bootstrap 95 % intervals too (``interval`` keys, see ``intervals.py``)."""
    from ecoute.classifiers.training.intervals import determinant_intervals, sentiment_intervals

    result: dict[str, Any] = {"n": len(items)}
    # How each item was read: feedback is judged otherwise than social posts, and a file
    # without a `channel` column is read as social posts are.
    channels: dict[str, int] = defaultdict(int)
    for it in items:
        channels[it.channel or "none"] += 1
    result["channels"] = dict(sorted(channels.items()))
    with_sentiment = [(it, p) for it, p in zip(items, predictions, strict=True) if it.sentiment]
    if with_sentiment:
        gold = [it.sentiment or "" for it, _ in with_sentiment]
        pred = [p.sentiment.label for _, p in with_sentiment]
        overall = sentiment_scores(gold, pred)
        by_lang: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
        for (it, p), g in zip(with_sentiment, gold, strict=True):
            lang = it.lang or p.lang or "unknown"
            by_lang[lang][0].append(g)
            by_lang[lang][1].append(p.sentiment.label)
        per_lang = {lang: sentiment_scores(g, p) for lang, (g, p) in sorted(by_lang.items())}
        result["sentiment"] = {
            "accuracy": overall["accuracy"], "macro_f1": overall["macro_f1"],
            # Benchmarks such as XLM-T report the mean of the languages' macro-F1.
            "macro_f1_mean_of_langs": round(
                sum(r["macro_f1"] for r in per_lang.values()) / len(per_lang), 4),
            "per_lang": per_lang,
        }
        if intervals:
            langs = [it.lang or p.lang or "unknown" for it, p in with_sentiment]
            result["sentiment"]["interval"] = sentiment_intervals(gold, pred, langs)
    annotated = [(it, p) for it, p in zip(items, predictions, strict=True)
                 if it.determinants is not None]
    if annotated:
        gold_pairs = [it.determinants or frozenset() for it, _ in annotated]
        predicted = [predicted_pairs(p) for _, p in annotated]
        result["determinants"] = determinant_scores(gold_pairs, predicted)
        if intervals:
            result["determinants"]["interval"] = determinant_intervals(gold_pairs, predicted)
    return result


def determinant_scores(
    gold: Sequence[frozenset[tuple[str, str]]], predicted: Sequence[frozenset[tuple[str, str]]]
) -> dict[str, Any]:
    counts = {d: [0, 0, 0] for d in DETERMINANTS}  # tp, fp, fn of presence
    pol = [0, 0, 0]
    for g, p in zip(gold, predicted, strict=True):
        g_names, p_names = {d for d, _ in g}, {d for d, _ in p}
        for d in DETERMINANTS:
            counts[d][0] += d in g_names and d in p_names
            counts[d][1] += d not in g_names and d in p_names
            counts[d][2] += d in g_names and d not in p_names
        pol[0] += len(g & p)
        pol[1] += len(p - g)
        pol[2] += len(g - p)
    total = [sum(c[k] for c in counts.values()) for k in range(3)]
    return {
        "micro_f1": _f1(*total)["f1"],
        "polarity_micro_f1": _f1(*pol)["f1"],
        "per_determinant": {
            d: {**_f1(*c), "support": c[0] + c[2]} for d, c in counts.items()
        },
    }


def evaluate_file(
    classifier: Classifier, path: Path, *, batch_size: int = 32, split: str = "val",
    intervals: bool = False,
) -> dict[str, Any]:
    items = read_labelled(path, split=split)
    return score(items, predict_items(classifier, items, batch_size=batch_size),
                 intervals=intervals)


def predict_items(
    classifier: Classifier, items: Sequence[LabelledItem], *, batch_size: int = 32
) -> list[Prediction]:
    """``classifier``'s predictions for ``items``, each told its channel as the worker tells
    a collected item's, in batches of ``batch_size``."""
    predictions: list[Prediction] = []
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        predictions += classifier.predict([it.text for it in batch], [it.channel for it in batch])
    return predictions
