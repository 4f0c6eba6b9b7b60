"""Classification throughput of the default classifier against the naive way and the limit.

    ECOUTE_CACHE_DIR=/tmp/ecoute-bench-cache \
        python benchmarks/bench_classify.py [--items 5000] [--threads 2] [--naive-items 500]

Texts are real multi-sentence feedback read from the shared data folder (``--data``): the
gold determinant dev set, the Helsinki feedback descriptions, SemEval-2016 French restaurant
sentences joined into reviews of 3 and XLM-T training tweets joined 2-4 per text; they are
shuffled with a fixed seed and cycled if needed to reach ``--items``. Nothing of them ships.

Measured in one process, on the same texts, the runs of each comparison taking turns
chunk by chunk so that the load of a shared machine falls on both alike:

* ours: ``classifier.predict`` on consecutive chunks of ``classify_chunk_size`` texts, as the
  worker and ``ecoute classify`` call it (language, segments, one pass per item, heads,
  lexicon, determinants; batches of ``classify_batch_size`` sorted by length inside a chunk),
  every text given as a review, so that feedback's judgement head is on the path, and again
  every text given as a social post (sentiment heads blended with the wording heads);
* the limit: the same encoder's forward pass on the same chunks (same tokenizer, prefix,
  max_length, batch size, length sorting, ``torch.inference_mode``) with no pooling, heads,
  segments, lexicon or language detection;
* both again on the first ``--naive-items`` texts in chunks of one batch, which is what the
  chunk size saves (a chunk of one batch cannot sort away any padding);
* the naive way, on the first ``--naive-items`` texts only (it is slow): for each item, one
  forward pass per segment, one at a time, then one for the item, each pooled and put through
  the same heads and lexicon (same encoder code with batches of one). The literal
  ``transformers.pipeline("feature-extraction")`` per segment then per item is timed too,
  forward and mean pooling only, so it is an upper bound of the pipeline's speed (the
  pipeline exposes only the last layer, while the heads read four).

Ours is timed again on that subset so that the ratio ours/naive compares the same texts.
Prints the markdown of docs/benchmarks.md's Classification section.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data"
XLMT_LANGS = ("english", "french", "german", "italian", "portuguese", "spanish", "arabic",
              "hindi")


def load_texts(data: Path, n: int, seed: int = 7) -> list[str]:
    """``n`` real multi-sentence feedback texts, mixed sources, fixed order."""
    rng = random.Random(seed)
    texts: list[str] = []
    with open(data / "gold" / "determinants_dev.csv", encoding="utf-8", newline="") as fh:
        texts += [row["text"] for row in csv.DictReader(fh) if row["text"].strip()]
    helsinki = data / "citizen" / "helsinki_issue_reporting" / "real_feedbacks_half.json"
    for record in json.loads(helsinki.read_text(encoding="utf-8")):
        description = (record.get("fields") or {}).get("description") or ""
        if description.strip():
            texts.append(description)
    texts += _semeval_reviews(data / "sentiment" / "semeval2016_fr" / "yangheng95_apc"
                              / "restaurants_train_french.xml.dat")
    for lang in XLMT_LANGS:
        path = data / "sentiment" / "xlmt" / lang / "train_text.txt"
        tweets = [t.strip() for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
        i = 0
        while i < len(tweets):
            k = rng.randint(2, 4)
            # Each tweet becomes one sentence of the joined text.
            texts.append(" ".join(t if t[-1] in ".!?" else t + "." for t in tweets[i : i + k]))
            i += k
    rng.shuffle(texts)
    return [texts[i % len(texts)] for i in range(n)]


def _semeval_reviews(path: Path) -> list[str]:
    """SemEval APC lines come in threes (sentence with $T$, target, label); one sentence per
    aspect, so consecutive duplicates are dropped and 3 sentences make a review."""
    lines = path.read_text(encoding="utf-8").splitlines()
    sentences: list[str] = []
    for i in range(0, len(lines) - 2, 3):
        sentence = lines[i].replace("$T$", lines[i + 1]).strip()
        if sentence and (not sentences or sentences[-1] != sentence):
            sentences.append(sentence)
    return [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]


def chunks(texts: Sequence[str], size: int) -> list[Sequence[str]]:
    return [texts[i : i + size] for i in range(0, len(texts), size)]


def alternate(texts: Sequence[str], size: int, runs: dict[str, Callable[[Sequence[str]], object]]
              ) -> dict[str, float]:
    """Seconds of each run over ``texts``, taking turns chunk by chunk so that the load of a
    shared machine falls on all of them alike."""
    spent = dict.fromkeys(runs, 0.0)
    for chunk in chunks(texts, size):
        for name, run in runs.items():
            start = time.perf_counter()
            run(chunk)
            spent[name] += time.perf_counter() - start
    return spent


def limit(encoder, texts: Sequence[str]) -> None:  # type: ignore[no-untyped-def]
    """Tokenizer + forward pass only, batches of ``encoder.batch_size`` sorted by length."""
    import torch

    ordered = sorted(texts, key=len)
    with torch.inference_mode():
        for start in range(0, len(ordered), encoder.batch_size):
            batch = [encoder.prefix + (t or " ")
                     for t in ordered[start : start + encoder.batch_size]]
            encoded = encoder.tokenizer(batch, padding=True, truncation=True,
                                        max_length=encoder.max_length, return_tensors="pt")
            encoder.model(**encoded)


def naive(classifier, texts: Sequence[str]) -> None:  # type: ignore[no-untyped-def]
    """One forward pass per segment, one at a time, then one for the item; same heads."""
    import numpy as np

    from ecoute.domain import Prediction, SentimentScores
    from ecoute.classifiers.language import detect_languages
    from ecoute.classifiers.sentences import split_segments

    encoder = classifier.encoder
    for text in texts:
        segments = split_segments(text)
        seg_emb = np.stack([encoder.encode([s.text]).items[0] for s in segments]) if segments \
            else np.zeros((0, encoder.dim), dtype=np.float32)
        item = encoder.encode([text]).items[0]
        lang = detect_languages([text])[0]
        probs = classifier.sentiment.probabilities(item[None, :], [lang])[0]
        if classifier.judgement_head is not None:  # every text is a review, as in ours
            probs = classifier.judgement_head.probabilities(item[None, :])[0]
        seg_probs = classifier.sentiment.probabilities(seg_emb, [lang] * len(segments))
        seg_lean = seg_probs[:, 2] - seg_probs[:, 0] - classifier.polarity_context * (
            probs[2] - probs[0])
        mentions = classifier._determinants(item, seg_emb, segments, seg_lean, lang)
        Prediction(sentiment=SentimentScores.from_list(probs.tolist()), determinants=mentions,
                   lang=lang)


def naive_pipeline(extract, encoder, texts: Sequence[str]) -> None:  # type: ignore[no-untyped-def]
    """``extract`` (a feature-extraction pipeline) per segment then per item, mean-pooled (no
    heads: the pipeline returns the last layer only)."""
    from ecoute.classifiers.sentences import split_segments

    kwargs = {"truncation": True, "max_length": encoder.max_length}
    for text in texts:
        for piece in [s.text for s in split_segments(text)] + [text]:
            extract(encoder.prefix + piece, return_tensors=True,
                    tokenize_kwargs=kwargs)[0].mean(dim=0)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--naive-items", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    os.environ["ECOUTE_TORCH_THREADS"] = str(args.threads)

    from ecoute.classifiers.loader import build_classifier
    from ecoute.classifiers.sentences import split_segments
    from ecoute.config.settings import Settings

    texts = load_texts(args.data, args.items)
    settings = Settings()
    started = time.perf_counter()
    classifier = build_classifier(settings)
    load_s = time.perf_counter() - started
    encoder = classifier.encoder
    size = settings.classify_batch_size
    chunk = settings.classify_chunk_size
    segments = sum(len(split_segments(t)) for t in texts)
    tokens = [len(encoder.tokenizer(encoder.prefix + t, truncation=True,
                                     max_length=encoder.max_length)["input_ids"]) for t in texts]
    print(f"# {len(texts)} texts, {segments / len(texts):.1f} segments and "
          f"{sum(tokens) / len(tokens):.0f} tokens per text on average "
          f"({sum(t == encoder.max_length for t in tokens)} truncated at {encoder.max_length}); "
          f"chunks of {chunk}, batches of {size}, {args.threads} threads; classifier built in "
          f"{load_s:.1f} s",
          file=sys.stderr)

    def ours(chunk: Sequence[str]) -> object:
        return classifier.predict(chunk, ["review"] * len(chunk))

    # Warm-up: first calls load the language detector and allocate torch buffers.
    ours(texts[:size])
    limit(encoder, texts[:size])

    def ours_social(chunk: Sequence[str]) -> object:
        # Social posts: the sentiment heads and the wording heads instead of the judgement.
        return classifier.predict(chunk, ["social"] * len(chunk))

    n = len(texts)
    chunked = alternate(texts, chunk, {"limit": lambda c: limit(encoder, c),
                                       "ours": ours, "social": ours_social})
    _note(f"chunks of {chunk}: {chunked}")
    subset = texts[: args.naive_items]
    m = len(subset)
    # Chunks of one batch: what the worker would do without its chunk size.
    single = alternate(subset, size, {"ours": ours,
                                      "limit": lambda c: limit(encoder, c)})
    _note(f"first {m}, chunks of {size}: {single}")
    from transformers import pipeline

    # The same model object and tokenizer as ours: only the way of calling them differs.
    extract = pipeline("feature-extraction", model=encoder.model, tokenizer=encoder.tokenizer,
                       device="cpu")
    small = alternate(subset, chunk, {"ours": ours,
                                     "naive": lambda c: naive(classifier, c),
                                     "pipeline": lambda c: naive_pipeline(extract, encoder, c)})
    _note(f"first {m}: {small}")

    rows = [
        (f"ours: `predict` on chunks of {chunk} (as the worker)", n, chunked["ours"]),
        ("limit: forward pass only, same chunks", n, chunked["limit"]),
        ("ours, every text given as a social post (wording heads on the path)", n,
         chunked["social"]),
        (f"ours on the first {m:,} texts, chunks of {size} (one batch)", m, single["ours"]),
        ("limit: forward pass only, same chunks", m, single["limit"]),
        (f"ours on the first {m:,} texts, chunks of {chunk}", m, small["ours"]),
        ("naive: one pass per segment, then per item, one text at a time; same heads", m,
         small["naive"]),
        ("`pipeline(\"feature-extraction\")` per segment, then per item (no heads)", m,
         small["pipeline"]),
    ]
    print("| measurement | texts | seconds | items/s |\n|---|---|---|---|")
    for label, count, seconds in rows:
        print(f"| {label} | {count:,} | {seconds:.1f} | {count / seconds:.2f} |")
    print()
    print(f"- ours / naive (first {m:,} texts): {small['naive'] / small['ours']:.2f}× "
          f"(goal ≥ 2); ours / pipeline: {small['pipeline'] / small['ours']:.2f}×")
    print(f"- ours / limit ({n:,} texts, chunks of {chunk}): "
          f"{chunked['limit'] / chunked['ours']:.2f}× (goal ≥ 0.9); chunks of {size}: "
          f"{single['limit'] / single['ours']:.2f}×; as social posts: "
          f"{chunked['limit'] / chunked['social']:.2f}×")
    print(f"- chunks of {chunk} / chunks of {size} (first {m:,} texts): "
          f"{single['ours'] / small['ours']:.2f}×")
    print(f"- peak RSS of the process: {peak_rss_mb():.0f} MB")


def _note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
