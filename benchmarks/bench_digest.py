"""Composing one authority's digest on a database of 1,000,000 classified items.

    python benchmarks/bench_digest.py [--items 1000000] [--database PATH] [--runs 5]

Builds (or reuses, with ``--database`` pointing at an existing file) a SQLite database by the
real migrations, then bulk-inserts two years of items (3 channels, 20 sites, 5 departments,
12 sources), their determinant tags, and the daily rollups summed from the same generated
data (what ``record_predictions`` keeps, without running it a million times). Then, for the
last complete week: the composition (figures of three windows, volumes, quotes through the
indexes, source activity), the charts and the rendering, timed separately, ``--runs`` times
after one warm-up; and, as a reference, the same quote query without its index (a scan).
Goal: composing ≤ 2 s. Prints the section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecoute.config.settings import Settings  # noqa: E402
from ecoute.digest.charts import charts  # noqa: E402
from ecoute.digest.compose import DigestSpec, compose  # noqa: E402
from ecoute.digest.periods import last_complete  # noqa: E402
from ecoute.digest.render import render  # noqa: E402
from ecoute.domain import DETERMINANTS, OVERALL  # noqa: E402
from ecoute.store.authorities import get_authority  # noqa: E402
from ecoute.store.db import make_engine, make_session_factory, session_scope, upgrade  # noqa: E402

ZONE = ZoneInfo("Europe/Paris")
CHANNELS = ("review", "complaint", "survey")
PHRASES = ["Accueil très aimable au guichet", "Quarante minutes d'attente pour rien",
           "Personne ne rappelle malgré mes messages", "Dossier traité rapidement, merci",
           "Le site internet est illisible sur téléphone", "Réclamation restée sans réponse"]


def build(path: Path, items: int, today: date, seed: int = 7) -> None:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    now = datetime.now(timezone.utc).isoformat(" ")
    db.execute("INSERT INTO authority (id, slug, name, timezone, locale, created_at) "
               "VALUES (1, 'bench', 'Bench', 'Europe/Paris', 'fr', ?)", (now,))
    db.executemany("INSERT INTO department (id, authority_id, name) VALUES (?, 1, ?)",
                   [(d, f"Direction {d}") for d in range(1, 6)])
    db.executemany("INSERT INTO site (id, authority_id, name) VALUES (?, 1, ?)",
                   [(s, f"Site {s}") for s in range(1, 21)])
    db.executemany(
        "INSERT INTO source (id, authority_id, kind, name, options, enabled, cursor, "
        "consecutive_failures, created_at) VALUES (?, 1, 'rss', ?, '{}', 1, '{}', ?, ?)",
        [(s, f"source-{s}", 3 if s == 12 else 0, now) for s in range(1, 13)])
    start = datetime.combine(today - timedelta(days=730), datetime.min.time(), ZONE)
    span = (today - start.date()).days * 86400
    rollup: dict[tuple[date, str, str, int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    item_rows, tag_rows = [], []
    tag_id = 0
    for n in range(1, items + 1):
        when = start + timedelta(seconds=rng.randrange(span))
        day = when.date()
        channel = CHANNELS[n % 3]
        source = 1 + n % 11  # source 12 fails and brings nothing
        site, department = 1 + rng.randrange(20), 1 + rng.randrange(5)
        text = f"{rng.choice(PHRASES)} ({n})"
        item_rows.append((n, source, f"e{n}", hashlib.sha1(text.encode()).hexdigest(), channel,
                          text, when.astimezone(timezone.utc).isoformat(" "), now, site,
                          department))
        positive_share = 0.55 + 0.2 * ((day.toordinal() // 7) % 5 - 2) / 2
        overall = "positive" if rng.random() < positive_share else "negative"
        rollup[(day, OVERALL, channel, site, department)][0 if overall == "positive" else 1] += 1
        for determinant in rng.sample(DETERMINANTS, 1 + (n % 2)):
            polarity = "positive" if rng.random() < positive_share else "negative"
            tag_id += 1
            tag_rows.append((tag_id, n, 0, len(text), determinant, polarity,
                             round(0.5 + rng.random() / 2, 3), now))
            rollup[(day, determinant, channel, site, department)][
                0 if polarity == "positive" else 1] += 1
        if len(item_rows) == 50_000:
            _flush(db, item_rows, tag_rows)
    _flush(db, item_rows, tag_rows)
    db.executemany(
        "INSERT INTO daily_rollup (authority_id, day, determinant, channel, site_id, "
        "department_id, pos, neg, neu, rating_sum, rating_count) "
        "VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
        [(d.isoformat(), det, ch, s, dep, *c) for (d, det, ch, s, dep), c in rollup.items()])
    db.commit()
    db.execute("ANALYZE")
    db.close()


def _flush(db: sqlite3.Connection, items: list[tuple], tags: list[tuple]) -> None:  # type: ignore[type-arg]
    db.executemany(
        "INSERT INTO item (id, authority_id, source_id, external_id, content_hash, channel, "
        "text, published_at, collected_at, site_id, department_id, extra, classified_version) "
        "VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', 'bench')", items)
    db.executemany(
        "INSERT INTO determinant_tag (id, item_id, span_start, span_end, determinant, "
        "polarity, confidence, provenance, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'model', ?)",
        tags)
    items.clear()
    tags.clear()


def timed(func, runs: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    result = func()  # warm-up: caches of SQLite and of the code
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--database", type=Path, help="reuse (or create) this SQLite file")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    today = datetime.now(ZONE).date()
    path = args.database or Path(tempfile.mkdtemp()) / "bench-digest.db"
    if not path.exists():
        began = time.perf_counter()
        build(path, args.items, today)
        print(f"built {args.items:,} items in {time.perf_counter() - began:.0f} s: {path}")
    settings = Settings(database_url=f"sqlite:///{path}")
    factory = make_session_factory(make_engine(f"sqlite:///{path}"))
    period = last_complete("weekly", today)

    def composed(**scope: int) -> object:
        with session_scope(factory) as session:
            spec = DigestSpec(get_authority(session, "bench"), "fr", "weekly", **scope)
            return compose(session, settings, spec, period)

    cold_began = time.perf_counter()
    composed()
    cold = time.perf_counter() - cold_began
    whole, digest = timed(composed, args.runs)
    department, _ = timed(lambda: composed(department_id=3), args.runs)
    drawn, images = timed(lambda: charts(digest), args.runs)  # type: ignore[arg-type]
    rendered, _ = timed(lambda: render(digest, images, unsubscribe_url="https://x/u/1.y"),  # type: ignore[arg-type]
                        args.runs)
    with session_scope(factory) as session:
        low, high = period.utc_bounds(ZONE)
        query = ("SELECT t.item_id FROM determinant_tag t {hint} JOIN item i ON i.id = t.item_id "
                 "WHERE i.authority_id = 1 AND i.published_at >= :low AND i.published_at < :high "
                 "AND t.determinant = 'courtesy' AND t.polarity = 'negative' "
                 "ORDER BY t.confidence DESC LIMIT 60")
        from sqlalchemy import text

        params = {"low": low.isoformat(" "), "high": high.isoformat(" ")}
        indexed, _ = timed(lambda: session.execute(text(query.format(hint="")), params).all(), 3)
        scanned, _ = timed(lambda: session.execute(text(query.format(
            hint="NOT INDEXED").replace("JOIN item i", "CROSS JOIN item i NOT INDEXED")),
            params).all(), 1)
    total = whole + drawn + rendered
    print(f"\n| step (week {period.key}, {args.items:,} items) | median of {args.runs}, ms |")
    print("|---|---|")
    for label, seconds in (("compose, whole authority (first call, cold)", cold),
                           ("compose, whole authority", whole),
                           ("compose, one department", department),
                           ("charts (2 PNG)", drawn), ("render HTML + text", rendered)):
        print(f"| {label} | {seconds * 1000:.1f} |")
    print(f"| **compose + charts + render** | **{total * 1000:.0f}** |")
    print(f"\n- ratio to the 2 s goal: {total / 2:.2f} (compose alone {whole / 2:.2f}); "
          f"first call {cold / 2:.2f}")
    print(f"- quote query through the indexes {indexed * 1000:.1f} ms, the same as a scan "
          f"{scanned * 1000:.0f} ms: the index makes it {scanned / indexed:.0f}× faster")
    d = digest
    print(f"- the week: overall n = {d.overall.n}, {sum(1 for f in d.figures if f.change)} "  # type: ignore[attr-defined]
          f"significant changes, {sum(len(q.mentions) for q in d.quotes)} quotes, "  # type: ignore[attr-defined]
          f"{len(d.sources)} source notes")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
