"""What routing adds to each classified batch, and how fast ``ecoute routing apply`` goes.

    python benchmarks/bench_routing.py [--items 5000] [--rules 30] [--chunk 256]

Generated complaints and reviews (town-hall words, 20 to 120 per text, one in three with a
category) are stored through the runner into a temporary SQLite file. Then, per chunk of
``--chunk`` items as the classify worker takes them, in one transaction: the predictions of a
small word-list classifier are written (``record_predictions``: taggings, tags, rollups) and
timed, then the chunk is routed (``route_items``: ``--rules`` keyword, category and
determinant rules, a default department, follow-ups opened) and timed. Only the first five
rules can match; the others name a language no item has, so an item no rule matches is tried
against all of them, as in an authority with many rules. The ratio routing /
writing the predictions is what routing adds to the database work of classification (the
model's own time, far larger, is left out). Last, every item is routed again by
``apply_routing`` (nothing moves), in items per second.

Prints the markdown of docs/benchmarks.md's Routing section.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("attente guichet accueil agent horaires dossier courrier réponse délai propreté "
         "stationnement voirie éclairage bruit piscine bibliothèque cantine facture état "
         "civil urbanisme rendez-vous téléphone personne aimable désagréable trop long "
         "trottoir bus école crèche déchets poubelle parc impoli rapide joindre").split()
TAGGED = {"attente": ("waiting_time", "negative"), "aimable": ("courtesy", "positive"),
          "impoli": ("courtesy", "negative"), "joindre": ("accessibility", "negative"),
          "rapide": ("responsiveness", "positive")}


def records(count: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    now = datetime.now(timezone.utc)
    out = []
    for n in range(count):
        record: dict[str, object] = {
            "external_id": f"b{n}", "channel": rng.choice(["complaint", "review"]),
            "text": ". ".join(" ".join(rng.choices(WORDS, k=rng.randint(5, 30)))
                              for _ in range(rng.randint(1, 4))),
            "published_at": (now - timedelta(hours=rng.randint(1, 24 * 20))).isoformat(),
        }
        if n % 3 == 0:
            record["extra"] = {"category": rng.choice(["voirie", "propreté", "état civil"])}
        out.append(record)
    return out


def predictions(texts: Sequence[str]) -> list[Any]:
    from ecoute.domain import DeterminantMention, Prediction, SentimentScores

    out = []
    for text in texts:
        mentions, start = [], 0
        for sentence in text.split(". "):
            for word, (determinant, polarity) in TAGGED.items():
                if word in sentence:
                    mentions.append(DeterminantMention(determinant, polarity, 0.9, start,
                                                       start + len(sentence)))
            start += len(sentence) + 2
        negative = any(m.polarity == "negative" for m in mentions)
        out.append(Prediction(sentiment=SentimentScores(0.8, 0.1, 0.1) if negative
                              else SentimentScores(0.1, 0.2, 0.7), determinants=mentions))
    return out


def add_rules(factory: Any, count: int) -> None:
    from ecoute.store.authorities import ensure_authority
    from ecoute.store.db import session_scope
    from ecoute.store.routing import RuleCriteria, add_rule

    kinds = [RuleCriteria(keyword="trottoir, éclairage, stationnement"),
             RuleCriteria(category="voirie"),
             RuleCriteria(determinant="courtesy", polarity="negative"),
             RuleCriteria(keyword="piscine, bibliothèque", channel="review"),
             RuleCriteria(keyword="état civil, dossier")]
    with session_scope(factory) as session:
        authority = ensure_authority(session, "bench")
        for n in range(count):
            criteria = kinds[n % len(kinds)]
            add_rule(session, authority, f"Service {n % 12}", RuleCriteria(
                **{**criteria.__dict__, "lang": None if n < len(kinds) else f"x{n}"}))


def _store(folder: Path, count: int, rules: int) -> tuple[Any, Any, Any, list[int]]:
    """A SQLite file holding the generated items and the rules; (engine, factory, settings,
    item ids)."""
    from sqlalchemy import select

    from ecoute.collectors.service import add_source, run_source
    from ecoute.config.settings import Settings
    from ecoute.store.db import make_engine, make_session_factory, session_scope, upgrade
    from ecoute.store.models import Item

    folder.mkdir()
    settings = Settings(database_url=f"sqlite:///{folder / 'bench.db'}",
                        cache_dir=folder / "cache", file_roots=[folder],
                        routing_default_department="Accueil")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    batch = folder / "in" / "batch.ndjson"
    batch.parent.mkdir()
    batch.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                             for r in records(count)), encoding="utf-8")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="bench", name="bench", kind="push",
                               options={"path": str(batch.parent)}).id
    run_source(factory, settings, source_id, options_override={"path": str(batch)})
    add_rules(factory, rules)
    with session_scope(factory) as session:
        ids = list(session.scalars(select(Item.id).order_by(Item.id)))
    return engine, factory, settings, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--rules", type=int, default=30)
    parser.add_argument("--chunk", type=int, default=256)
    args = parser.parse_args()

    from sqlalchemy import select

    from ecoute.store.db import session_scope
    from ecoute.store.models import Item
    from ecoute.store.routing import apply_routing, route_items
    from ecoute.store.taggings import record_predictions

    timings = {"write": 0.0, "route": 0.0, "write_after": 0.0, "route_after": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        before = _store(Path(tmp) / "before", args.items, args.rules)
        after = _store(Path(tmp) / "after", args.items, args.rules)
        ids = before[3]
        opened = 0
        # Both ways take turns chunk by chunk, so the load of a shared machine falls on both.
        for start in range(0, len(ids), args.chunk):
            for way, (_engine, factory, settings, _ids) in (("", before), ("_after", after)):
                with session_scope(factory) as session:
                    items = list(session.scalars(select(Item).where(
                        Item.id.in_(ids[start:start + args.chunk])).order_by(Item.id)))
                    guesses = predictions([i.text for i in items])
                    t0 = time.perf_counter()
                    if not way:  # as the worker does: routed on the predictions, then written
                        opened += route_items(session, items, settings,
                                              predictions=guesses).followups_opened
                    t1 = time.perf_counter()
                    record_predictions(session, items, guesses,
                                       model_name="bench", model_version="1")
                    t2 = time.perf_counter()
                    if way:  # routed once counted: moved in the rollups
                        route_items(session, items, settings)
                    t3 = time.perf_counter()
                timings["write" + way] += t2 - t1
                timings["route" + way] += (t1 - t0) + (t3 - t2)
        engine, factory, settings, _ = before
        with session_scope(factory) as session:
            authority_id = session.scalars(select(Item.authority_id)).first() or 0
        t0 = time.perf_counter()
        again = apply_routing(factory, authority_id, settings)
        applied = time.perf_counter() - t0
        for store in (before, after):
            store[0].dispose()

    n = len(ids)
    print("## Routing\n")
    print(f"`python benchmarks/bench_routing.py --items {n} --rules {args.rules} "
          f"--chunk {args.chunk}` (SQLite, {n} items, {opened} follow-ups opened):\n")
    print("| step | total | per item |")
    print("|---|---|---|")
    rows = [("writing the predictions (`record_predictions`)", timings["write"]),
            (f"routing on the predictions, before they are written ({args.rules} rules, "
             "as the worker does)", timings["route"]),
            ("routing after they are written (items moved in the rollups)",
             timings["route_after"]),
            (f"routing all again (`apply_routing`, {again.moved} moved)", applied)]
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} s | {seconds / n * 1e6:.0f} µs |")
    print(f"\n- routing / writing the predictions: {timings['route'] / timings['write']:.2f}× "
          f"(routing after writing: {timings['route_after'] / timings['write_after']:.2f}×)")
    print(f"- routing before / after writing: {timings['route'] / timings['route_after']:.2f}×")
    print(f"- `routing apply`: {n / applied:.0f} items/s")


if __name__ == "__main__":
    main()
