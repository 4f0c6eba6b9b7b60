"""``ecoute classify``, ``train`` and ``evaluate``: thin commands over ``ecoute.classifiers``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ecoute.cli._common import err, out, session_factory
from ecoute.config.settings import get_settings


def evaluate_cmd(
    file: Annotated[Path, typer.Argument(help="CSV with `text` and optionally `lang`, "
                                         "`sentiment`, `determinants` (name:polarity;...), "
                                         "`channel` (review, complaint, social...: feedback "
                                         "is judged otherwise than social posts), or an "
                                         "XLM-T folder (one language or all; tweets are "
                                         "social posts).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    authority: Annotated[str | None, typer.Option(
        "--authority", "-a", help="Use the heads this authority trained from its corrections.",
    )] = None,
    cross_validate: Annotated[int, typer.Option(
        "--cross-validate", help="Score FILE with determinant heads trained on the other "
        "folds of FILE itself (k folds; 0: use the installed heads).")] = 0,
    split: Annotated[str, typer.Option(
        help="Which split of an XLM-T folder to score (val or train).")] = "val",
    train: Annotated[Path | None, typer.Option(
        "--train", help="Score FILE with a determinant head (and cue choices) trained on "
        "this labelled CSV only; FILE's labels are only read to score.")] = None,
    intervals: Annotated[bool, typer.Option(
        "--intervals", help="Add bootstrap 95 % intervals (1,000 resamples of the items).")]
    = False,
) -> None:
    """Score the classifier on a labelled CSV file or XLM-T folder (sentiment and
    determinants)."""
    from ecoute.classifiers.training.evaluation import evaluate_file
    from ecoute.classifiers.loader import build_classifier, own_heads

    settings = get_settings()
    own = None
    if authority is not None:
        own = own_heads(session_factory(settings), authority)
    classifier = build_classifier(settings, own=own)
    with err.status(f"classifying {file.name}"):
        if cross_validate or train is not None:
            from ecoute.classifiers.training import cross_validation
            from ecoute.classifiers.e5.classifier import E5Classifier

            if not isinstance(classifier, E5Classifier):
                raise typer.BadParameter("--cross-validate and --train need the default "
                                         "classifier")
            cache = settings.cache_dir / "embeddings"
            if train is not None:
                result = cross_validation.train_then_score(
                    classifier, train, file, cache, log=err.print, intervals=intervals,
                    batch_size=settings.classify_chunk_size)
            else:
                result = cross_validation.cross_validated_evaluation(
                    classifier, file, cache, folds=cross_validate, log=err.print,
                    intervals=intervals)
        else:
            result = evaluate_file(classifier, file, batch_size=settings.classify_chunk_size,
                                   split=split, intervals=intervals)
    result["model"] = f"{classifier.name}@{classifier.version}"
    if as_json:
        out.print_json(json.dumps(result))
        return
    print_evaluation(result)


def print_evaluation(result: dict[str, Any]) -> None:
    out.print(f"{result['n']} item(s), model {result.get('model', '?')}")
    unknown = result.get("channels", {}).get("none", 0)
    if unknown:
        out.print(f"{unknown} item(s) have no channel and were read as social posts are; give "
                  "a `channel` column (review, complaint, service_request, survey, email...) "
                  "to read them as the feedback ecoute collects")
    if "sentiment" in result:
        s = result["sentiment"]
        ci = s.get("interval", {})
        title = (f"Sentiment: accuracy {s['accuracy']:.3f}, macro-F1 {s['macro_f1']:.3f}"
                 f"{_interval(ci.get('macro_f1'))}")
        if len(s["per_lang"]) > 1:
            title += (f" (mean over languages {s['macro_f1_mean_of_langs']:.3f}"
                      f"{_interval(ci.get('macro_f1_mean_of_langs'))})")
        table = Table(title=title)
        for column in ("language", "items", "accuracy", "macro-F1"):
            table.add_column(column, justify="left" if column == "language" else "right")
        for lang, row in s["per_lang"].items():
            table.add_row(lang, str(row["n"]), f"{row['accuracy']:.3f}", f"{row['macro_f1']:.3f}"
                          f"{_interval(ci.get('per_lang', {}).get(lang))}")
        out.print(table)
    if "determinants" in result:
        d = result["determinants"]
        ci = d.get("interval", {})
        table = Table(title=f"Determinants: micro-F1 {d['micro_f1']:.3f}"
                            f"{_interval(ci.get('micro_f1'))}, with polarity "
                            f"{d['polarity_micro_f1']:.3f}{_interval(ci.get('polarity_micro_f1'))}")
        for column in ("determinant", "precision", "recall", "F1", "support"):
            table.add_column(column, justify="left" if column == "determinant" else "right")
        for name, row in d["per_determinant"].items():
            table.add_row(name, f"{row['precision']:.3f}", f"{row['recall']:.3f}",
                          f"{row['f1']:.3f}", str(row["support"]))
        out.print(table)


def _interval(bounds: list[float] | None) -> str:
    return f" [{bounds[0]:.3f}, {bounds[1]:.3f}]" if bounds else ""


def train_cmd(
    xlmt: Annotated[Path | None, typer.Option(
        help="XLM-T sentiment folder (<language>/train_text.txt...): retrain the sentiment "
        "heads.")] = None,
    apc: Annotated[Path | None, typer.Option(
        help="Aspect sentiment sentences in PyABSA APC format (SemEval): extra sentiment "
        "training segments, with --xlmt.")] = None,
    exclude: Annotated[Path | None, typer.Option(
        help="Evaluation CSV whose texts must never be trained on (the --gold file's texts "
        "are always kept out of the sentiment data).")] = None,
    gold: Annotated[Path | None, typer.Option(
        help="Labelled CSV (text, determinants): retrain the determinant head (with "
        "--from-corrections: check the refit on it).")] = None,
    from_corrections: Annotated[bool, typer.Option(
        "--from-corrections", help="Refit the determinant and sentiment heads with the "
        "authority's human corrections, check them against the shipped heads (and --gold) "
        "and keep them in the database if they do not score worse; the authority's items are "
        "re-tagged by the next `ecoute classify`.")] = False,
    authority: Annotated[str | None, typer.Option(
        "--authority", "-a", help="Authority slug (default: the setting).")] = None,
    max_train: Annotated[int | None, typer.Option(
        help="Use only the first N training lines per XLM-T language (faster).")] = None,
    output: Annotated[Path | None, typer.Option(
        help="Folder to write the heads to (default: the package's heads; with "
        "--from-corrections the heads go to the database and, with this, also to files).")]
    = None,
    tune_encoder: Annotated[bool, typer.Option(
        "--tune-encoder", help="First tune the encoder's top four layers on --xlmt, --apc "
        "and --gold (low-rank deltas, written beside the heads as encoder-delta.safetensors "
        "when they beat the plain encoder on held-out training rows), then train the heads "
        "on the tuned encoder.")] = False,
    epochs: Annotated[float, typer.Option(
        help="With --tune-encoder: epochs at most (the best half-epoch checkpoint on the "
        "held-out rows is kept).")] = 2.0,
    max_minutes: Annotated[float | None, typer.Option(
        help="With --tune-encoder: stop tuning after this many minutes.")] = None,
) -> None:
    """Train the classifier's heads (sentiment, determinants) on embeddings cached on disk."""
    from ecoute.classifiers.training import corrections
    from ecoute.classifiers.training import jobs as training_jobs

    settings = get_settings()
    if not (xlmt or gold or from_corrections):
        raise typer.BadParameter("give --xlmt, --gold and/or --from-corrections")
    if tune_encoder:
        if from_corrections:
            raise typer.BadParameter("--tune-encoder trains the shipped encoder, not an "
                                     "authority's heads")
        options = training_jobs.TuningOptions(epochs=epochs, max_minutes=max_minutes)
        if not training_jobs.tune_encoder_layers(
                settings, xlmt=xlmt, apc=apc, gold=gold, exclude=exclude, output=output,
                max_train=max_train, options=options, log=err.print):
            out.print("the tuned encoder did not beat the plain one on held-out rows: "
                      "heads not retrained")
            return
    if from_corrections:
        slug = authority or settings.default_authority
        corrections.train_from_corrections(
            settings, session_factory(settings), slug, gold=gold, output=output, log=out.print,
        )
        return
    written = training_jobs.train_shipped(
        settings, xlmt=xlmt, gold=gold, max_train=max_train, output=output, apc=apc,
        exclude=exclude, log=err.print,
    )
    for path in written:
        out.print(f"wrote {path}")


def classify_cmd(
    limit: Annotated[int | None, typer.Option(help="Stop after this many items.")] = None,
) -> None:
    """Classify every item not yet classified by the current model."""
    from rich.progress import Progress

    from ecoute.classifiers.loader import ClassifierPool
    from ecoute.classifiers.pending import classify_each_authority

    settings = get_settings()
    factory = session_factory(settings)
    pool = ClassifierPool(settings, factory)
    # Load the default model before the progress bar, so that its errors come first.
    default = pool.for_authority(settings.default_authority)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("classifying", total=None)
        report = classify_each_authority(
            factory, pool.for_authority, batch_size=settings.classify_chunk_size,
            max_items=limit, progress=lambda n: progress.advance(task, n), settings=settings,
        )
    out.print(f"{report.classified} item(s) classified with {default.name}@{default.version}")
