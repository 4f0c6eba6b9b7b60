"""``ecoute train --tune-encoder``: low-rank deltas of the encoder's top layers.

The top four layers of multilingual-e5-small — the ones the heads pool — get low-rank
updates (``lowrank``), trained on sentiment (tweets, review segments, feedback items) and
determinant presence (feedback items) at once, through throwaway linear heads on the
classifier's own pooling (token mean per layer, L2 per layer). The layers below are frozen
and run once (``frozen_bottom``), so an epoch costs the top layers only.

Honesty: the number of epochs is chosen on a held-out part of the training data
(``tuning_data.HELD_OUT``), scored every half epoch; and before writing anything, a linear
probe fitted on the same training rows is scored on the held-out rows with the plain and the
tuned encoder, so whether tuning helps is measured on data it never saw. The XLM-T
validation split and evaluation files play no part.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ecoute.classifiers.heads import fit_linear, macro_f1, sigmoid
from ecoute.classifiers.training.frozen_bottom import TokenStates, bottom_states
from ecoute.classifiers.training.lowrank import TopLayers, batch_tensors, pool_weights, pooled
from ecoute.classifiers.training.tuning_data import NO_LABEL, Rows, build_rows, read_sources

Log = Callable[[str], None]


@dataclass
class TuningOptions:
    """The tuning's settings; the defaults made the shipped delta (third run, docs/classification.md)."""

    tuned_layers: int = 4
    rank: int = 8
    alpha: float = 16.0
    lr: float = 5e-4
    head_lr: float = 3e-3
    epochs: float = 2.0
    batch_size: int = 32
    determinant_weight: float = 1.0
    # The review segments are the only rows pooled over a part of their text (4 % of the
    # rows): at weight 1 the tuning neglected them and segment polarity got worse.
    review_weight: float = 4.0
    max_minutes: float | None = None
    seed: int = 0
    probe_rows: int = 400  # per domain: training rows the linear probe is fitted on


@dataclass
class TuningResult:
    delta_path: Path | None
    checkpoints: list[dict[str, float]] = field(default_factory=list)
    probe: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0
    better: bool = False


def _batches(
    rows: Rows, lengths: np.ndarray, size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Shuffled batches of rows of similar length (little padding), in random order."""
    order = rng.permutation(len(rows.text))
    batches = []
    pool = size * 50
    for start in range(0, len(order), pool):
        part = order[start : start + pool]
        part = part[np.argsort(lengths[rows.text[part]], kind="stable")]
        batches += [part[i : i + size] for i in range(0, len(part), size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def embed_rows(top: TopLayers, states: TokenStates, rows: Rows, batch_size: int = 64) -> np.ndarray:
    """Pooled features of every row (no gradient), as the classifier would compute them."""
    import torch

    lengths = np.diff(states.bounds)
    out = np.zeros((len(rows.text), states.states.shape[1] * len(top.layers)), np.float32)
    order = np.argsort(lengths[rows.text], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            part = order[start : start + batch_size]
            feats = _features(top, states, rows, part)
            out[part] = feats.numpy()
    return out


def _features(top: TopLayers, states: TokenStates, rows: Rows, part: np.ndarray) -> Any:
    texts = rows.text[part].tolist()
    hidden, mask = batch_tensors(states, texts)
    weights = pool_weights(states, texts, [rows.span[i] for i in part], hidden.shape[1])
    return pooled(top.forward(hidden, mask), weights)


def held_out_scores(
    rows: Rows, sent_logits: np.ndarray, det_logits: np.ndarray
) -> dict[str, float]:
    """Macro-F1 per sentiment domain, their mean, determinant micro-F1 (at 0.5) and the
    selection score: the mean of tweets (mean of languages), reviews and items."""
    scores: dict[str, float] = {}
    for d in sorted(set(rows.domain.tolist())):
        sel = (rows.domain == d) & (rows.sentiment != NO_LABEL)
        if sel.any():
            scores[d] = macro_f1(rows.sentiment[sel], sent_logits[sel].argmax(1), 3)
    tweets = [v for d, v in scores.items() if d not in ("items", "reviews-fr")]
    scores["tweets_mean"] = float(np.mean(tweets)) if tweets else 0.0
    has = rows.has_determinants
    if has.any():
        pred = sigmoid(det_logits[has]) >= 0.5
        true = rows.determinants[has] == 1
        tp, fp, fn = (pred & true).sum(), (pred & ~true).sum(), (~pred & true).sum()
        scores["determinants_micro_f1"] = float(2 * tp / max(2 * tp + fp + fn, 1))
    parts = [scores["tweets_mean"]] if tweets else []
    parts += [scores[k] for k in ("reviews-fr", "determinants_micro_f1") if k in scores]
    scores["selection"] = float(np.mean(parts)) if parts else 0.0
    return {k: round(v, 4) for k, v in scores.items()}


def probe(train_x: np.ndarray, train: Rows, test_x: np.ndarray, test: Rows) -> dict[str, float]:
    """A linear probe (the heads' kind) fitted on training rows, scored on held-out ones."""
    sel = train.sentiment != NO_LABEL
    w, b = fit_linear(train_x[sel], train.sentiment[sel], n_labels=3, l2=1e-4)
    sent = test_x @ w.T + b
    det = np.zeros((len(test_x), train.determinants.shape[1]), dtype=np.float32)
    if train.has_determinants.any():
        has = train.has_determinants
        dw, db = fit_linear(
            train_x[has],
            train.determinants[has],
            n_labels=train.determinants.shape[1],
            activation="sigmoid",
            l2=1e-4,
        )
        det = test_x @ dw.T + db
    return held_out_scores(test, sent, det)


def _probe_rows(rows: Rows, per_domain: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(rows.text), dtype=bool)
    for d in set(rows.domain.tolist()):
        idx = np.flatnonzero(rows.domain == d)
        keep[rng.permutation(idx)[:per_domain]] = True
    return keep


def tune_encoder(
    model: Any,
    tokenizer: Any,
    folder: Path,
    *,
    xlmt: Path | None,
    apc: Path | None,
    items: Path | None,
    exclude: Path | None,
    output: Path,
    cache_dir: Path,
    base_sha256: str,
    options: TuningOptions | None = None,
    max_train: int | None = None,
    max_length: int = 256,
    prefix: str = "query: ",
    log: Log = print,
) -> TuningResult:
    """Tune ``model``'s top layers and write their delta to ``output`` if it helps."""
    import torch

    opts = options or TuningOptions()
    began = time.monotonic()
    torch.manual_seed(opts.seed)
    first = len(model.encoder.layer) - opts.tuned_layers
    src = read_sources(xlmt, apc, items, exclude, max_train=max_train, seed=opts.seed)
    states = {}
    for name, texts in src.chunks:
        log(f"frozen layers 0-{first - 1} over {len(texts)} texts ({name})")
        states[name] = bottom_states(
            model,
            tokenizer,
            folder,
            texts,
            first_tuned=first,
            prefix=prefix,
            max_length=max_length,
            cache_dir=cache_dir,
        )
    merged, rows = build_rows(src, states)
    train, held = rows.take(~rows.held_out), rows.take(rows.held_out)
    probe_train = train.take(_probe_rows(train, opts.probe_rows, opts.seed))
    log(f"{len(train.text)} training rows, {len(held.text)} held out")
    top = TopLayers(model, first, rank=opts.rank, alpha=opts.alpha, seed=opts.seed)
    result = TuningResult(delta_path=None)
    plain = probe(
        embed_rows(top, merged, probe_train), probe_train, embed_rows(top, merged, held), held
    )
    log(f"linear probe on held-out rows, plain encoder: {plain}")
    dim = merged.states.shape[1] * opts.tuned_layers
    sent_head = torch.nn.Linear(dim, 3)
    det_head = torch.nn.Linear(dim, rows.determinants.shape[1])
    optimizer = torch.optim.AdamW(
        [
            {"params": top.parameters(), "lr": opts.lr, "weight_decay": 0.0},
            {
                "params": [*sent_head.parameters(), *det_head.parameters()],
                "lr": opts.head_lr,
                "weight_decay": 0.0,
            },
        ]
    )
    rng = np.random.default_rng(opts.seed)
    lengths = np.diff(merged.bounds)
    sent_weight = np.where(train.domain == "reviews-fr", opts.review_weight, 1.0).astype(
        np.float32
    )
    steps_per_epoch = int(np.ceil(len(train.text) / opts.batch_size))
    total = int(round(opts.epochs * steps_per_epoch))
    check_every = max(1, steps_per_epoch // 2)
    deadline = began + opts.max_minutes * 60 if opts.max_minutes is not None else None

    def progress(step: int) -> float:
        # Whichever ends first, the epochs or the time budget, the learning rate reaches 0.
        done = step / max(total, 1)
        if deadline is not None:
            done = max(done, (time.monotonic() - began) / max(deadline - began, 1e-9))
        return min(1.0, (step + 1) / 50) * max(0.0, 1 - done)

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, progress)
    best: tuple[float, Any] = (-1.0, None)
    step, batches = 0, list[np.ndarray]()
    while step < total:
        if not batches:
            batches = _batches(train, lengths, opts.batch_size, rng)
        part = batches.pop()
        feats = _features(top, merged, train, part)
        loss = torch.zeros(())
        sent = torch.from_numpy(train.sentiment[part])
        has_sent = sent != NO_LABEL
        if has_sent.any():
            weight = torch.from_numpy(sent_weight[part])[has_sent]
            each = torch.nn.functional.cross_entropy(
                sent_head(feats[has_sent] * 8), sent[has_sent], reduction="none"
            )
            loss = loss + (each * weight).sum() / weight.sum()
        has_det = torch.from_numpy(train.has_determinants[part])
        if has_det.any():
            loss = (
                loss
                + opts.determinant_weight
                * torch.nn.functional.binary_cross_entropy_with_logits(
                    det_head(feats[has_det] * 8),
                    torch.from_numpy(train.determinants[part])[has_det],
                )
            )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        step += 1
        out_of_time = deadline is not None and time.monotonic() > deadline
        if step % check_every == 0 or step == total or out_of_time:
            x = embed_rows(top, merged, held)
            with torch.no_grad():
                xt = torch.from_numpy(x) * 8
                scores = held_out_scores(held, sent_head(xt).numpy(), det_head(xt).numpy())
            scores["epoch"] = round(step / steps_per_epoch, 2)
            result.checkpoints.append(scores)
            log(
                f"step {step}/{total} (epoch {scores['epoch']}), loss {float(loss.detach()):.3f}, "
                f"held out: {scores} [{(time.monotonic() - began) / 60:.1f} min]"
            )
            if scores["selection"] > best[0]:
                best = (scores["selection"], top.delta(base_sha256))
        if out_of_time:
            log("time budget reached: stopping here")
            break
    delta = best[1]
    # The probe with the chosen checkpoint's weights in place.
    for name, module in top.wrapped.items():
        a, b = delta.pairs[name]
        module.a.data = torch.from_numpy(a)
        module.b.data = torch.from_numpy(b)
    tuned = probe(
        embed_rows(top, merged, probe_train), probe_train, embed_rows(top, merged, held), held
    )
    log(f"linear probe on held-out rows, tuned encoder: {tuned}")
    result.probe = {"plain": plain, "tuned": tuned}
    result.better = tuned["selection"] > plain["selection"]
    result.seconds = time.monotonic() - began
    output.parent.mkdir(parents=True, exist_ok=True)
    written = output if result.better else output.with_name(output.stem + ".not-better.safetensors")
    delta.save(written)
    result.delta_path = written
    log(
        f"{'wrote' if result.better else 'tuning did not help; kept aside'} {written} "
        f"({written.stat().st_size / 1e6:.2f} MB) after {result.seconds / 60:.1f} min"
    )
    return result
