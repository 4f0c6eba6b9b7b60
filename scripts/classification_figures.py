"""The figures of docs/classification.md, with their bootstrap 95 % intervals.

    python scripts/classification_figures.py [--xlmt ../shared/data/sentiment/xlmt]

1. The determinant training set (tests/fixtures/determinants_train/items.csv) out of fold:
   5-fold cross-validation, the determinant head, its thresholds and the cue choices
   refitted on each fold's training part. The share of the whole item's lean taken out of
   a segment's before its determinants take a polarity is chosen here (the best
   determinant:polarity micro-F1 out of fold), and only here.
2. The gold dev set, only scored, by a head and cue choices trained on the training set
   alone (the shipped head is trained the same way by ``ecoute train``).
3. The XLM-T validation split, only scored: pooled, mean of the languages, per language.

``--added FILE`` asks whether more labelled items would help: the training set out of fold
again, with FILE's items added to each fold's training part (never scored), the found and
the written items scored apart, beside the same folds without them.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from ecoute.classifiers.e5.classifier import E5Classifier
from ecoute.classifiers.loader import build_classifier
from ecoute.classifiers.training import cross_validation
from ecoute.classifiers.training.cross_validation import (
    cross_validated_evaluation,
    cross_validated_predictions,
    train_then_score,
)
from ecoute.classifiers.training.evaluation import evaluate_file, read_labelled_csv, score
from ecoute.config.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "tests" / "fixtures" / "determinants_train" / "items.csv"
DEV = ROOT.parent / "shared" / "data" / "gold" / "determinants_dev.csv"


def _ci(bounds: list[float] | None) -> str:
    return f" [{bounds[0]:.3f}, {bounds[1]:.3f}]" if bounds else ""


def summary(name: str, result: dict[str, Any]) -> str:
    parts = [name]
    if "determinants" in result:
        d = result["determinants"]
        ci = d.get("interval", {})
        parts.append(f"determinants micro-F1 {d['micro_f1']:.3f}{_ci(ci.get('micro_f1'))}")
        parts.append(f"det:polarity {d['polarity_micro_f1']:.3f}"
                     f"{_ci(ci.get('polarity_micro_f1'))}")
        parts.append("per determinant P/R/F1: " + ", ".join(
            f"{k} {v['precision']:.2f}/{v['recall']:.2f}/{v['f1']:.2f} (n={v['support']})"
            for k, v in d["per_determinant"].items()))
    if "sentiment" in result:
        s = result["sentiment"]
        ci = s.get("interval", {})
        parts.append(f"sentiment macro-F1 {s['macro_f1']:.3f}{_ci(ci.get('macro_f1'))}, "
                     f"mean of languages {s['macro_f1_mean_of_langs']:.3f}"
                     f"{_ci(ci.get('macro_f1_mean_of_langs'))}")
        parts.append("per language: " + ", ".join(
            f"{lang} {row['macro_f1']:.3f}{_ci(ci.get('per_lang', {}).get(lang))} (n={row['n']})"
            for lang, row in s["per_lang"].items()))
    return "\n  ".join(parts)


def _remember_heads() -> None:
    """The polarity context does not change the heads: train each fold's head once."""
    train = cross_validation.train_determinant_model
    trained: dict[tuple[str, ...], Any] = {}

    def once(encoder: Any, texts: Any, *args: Any, **kwargs: Any) -> Any:
        key = tuple(texts)
        if key not in trained:
            trained[key] = train(encoder, texts, *args, **kwargs)
        return trained[key]

    cross_validation.train_determinant_model = once  # type: ignore[assignment]


def added_value(classifier: E5Classifier, train: Path, added: Path, cache: Path) -> dict[str, Any]:
    """The training set out of fold with and without ``added``'s items in each fold's
    training part, scored on the found and the written training items apart."""
    items = read_labelled_csv(train)
    with train.open(encoding="utf-8", newline="") as fh:
        written = [row.get("source") == "written_for_ecoute" for row in csv.DictReader(fh)]
    results: dict[str, Any] = {}
    for name, extra in (("without", []), ("with", read_labelled_csv(added))):
        predictions = cross_validated_predictions(classifier, items, cache, added=extra,
                                                  log=lambda _: None)
        for part, keep in (("all", None), ("found", False), ("written", True)):
            idx = [i for i in range(len(items)) if keep is None or written[i] == keep]
            result = score([items[i] for i in idx], [predictions[i] for i in idx])
            results[f"{name}_{part}"] = result
            d = result["determinants"]
            print(f"training set out of fold, {name} the items of {added}, {part} items "
                  f"({len(idx)}): determinants micro-F1 {d['micro_f1']:.3f}, "
                  f"det:polarity {d['polarity_micro_f1']:.3f}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, default=TRAIN)
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument("--xlmt", type=Path, default=None)
    parser.add_argument("--contexts", default="0,0.25,0.5,0.75,1",
                        help="polarity context shares to compare out of fold")
    parser.add_argument("--added", type=Path, default=None,
                        help="labelled CSV whose items are added to each fold's training part")
    parser.add_argument("--json", type=Path, default=None, help="write every result here")
    args = parser.parse_args()
    settings = get_settings()
    classifier = build_classifier(settings)
    if not isinstance(classifier, E5Classifier):
        raise SystemExit("the figures are those of the default classifier (unset ECOUTE_MODEL_DIR)")
    cache = settings.cache_dir / "embeddings"
    _remember_heads()
    results: dict[str, Any] = {}
    best = (-1.0, 0.0)
    for context in (float(c) for c in args.contexts.split(",")):
        classifier.polarity_context = context
        result = cross_validated_evaluation(classifier, args.train, cache, intervals=True,
                                            log=lambda _: None)
        results[f"train_out_of_fold_context_{context:g}"] = result
        print(summary(f"training set, out of fold, polarity context {context:g}", result))
        if result["determinants"]["polarity_micro_f1"] > best[0] + 1e-9:
            best = (result["determinants"]["polarity_micro_f1"], context)
    classifier.polarity_context = best[1]
    print(f"chosen polarity context (out of fold, training set): {best[1]:g}")
    results["chosen_polarity_context"] = best[1]
    if args.dev.is_file():
        result = train_then_score(classifier, args.train, args.dev, cache, intervals=True,
                                  log=lambda _: None)
        results["dev_gold"] = result
        print(summary(f"gold dev set ({args.dev.name}), only scored", result))
    if args.added is not None:
        results["added"] = added_value(classifier, args.train, args.added, cache)
    if args.xlmt is not None:
        result = evaluate_file(classifier, args.xlmt, intervals=True)
        results["xlmt_val"] = result
        print(summary("XLM-T validation split, only scored", result))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
