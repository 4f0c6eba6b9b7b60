"""``/metrics`` at a million items and batched rollup upserts, each against the naive way.

    python benchmarks/bench_metrics.py [--items 1000000] [--pg-url postgresql://...]
        [--pg-items 300000] [--scrapes 30] [--keys 2000]

For each database (SQLite always; PostgreSQL when ``--pg-url`` is given) it builds a migrated
store with the given number of items over 20 sources and 3 channels (written with the
project's migrations, so the ``item_count`` triggers keep the counters), then measures in the
same run:

- ``/metrics`` through the app (p50/p95 of ``--scrapes`` scrapes) against the query it made
  before the counters (a GROUP BY over the item table), and checks both give the same counts;
- what counting costs writes: ``insert_items`` against a bare executemany of the same new items,
  and a delete with the counting trigger against without it;
- a classification batch's rollup delta (``--keys`` rollup keys) applied by ``taggings._apply``
  (one executemany) against one ``INSERT … ON CONFLICT`` statement per key, twice each (new
  rows, then increments of existing rows), and checks both leave identical rollups.

Prints the markdown section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _store import bench_store  # noqa: E402
from ecoute.store import gauges  # noqa: E402
from ecoute.store.authorities import ensure_authority  # noqa: E402
from ecoute.store.db import make_session_factory, session_scope, upgrade  # noqa: E402
from ecoute.store.items import insert_items  # noqa: E402
from ecoute.store.models import DailyRollup, Item  # noqa: E402
from ecoute.store.sources import add_source  # noqa: E402
from ecoute.store.taggings import Counts, RollupKey, _apply  # noqa: E402

MIGRATION = ROOT / "ecoute/store/migrations/versions/0014_item_counts.py"
CHANNELS = ("review", "complaint", "phone")
SOURCES = 20
CHUNK = 20_000


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def timed(func: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1000)
    return out


def item_rows(authority_id: int, source_ids: list[int], start: int, count: int
              ) -> list[dict[str, Any]]:
    """Classified items over two years, spread over the sources and channels."""
    base = datetime(2025, 1, 1, 12, tzinfo=UTC)
    return [{"authority_id": authority_id, "source_id": source_ids[i % len(source_ids)],
                 "external_id": f"e{i}", "content_hash": f"{i:064x}", "channel": CHANNELS[i % 3],
                 "text": "x", "extra": {}, "classified_version": "m@1",
                 "published_at": base + timedelta(days=i % 730),
                 "collected_at": base + timedelta(days=i % 730)}
            for i in range(start, start + count)]


def build(engine: Engine, items: int) -> tuple[int, list[int]]:
    upgrade(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        authority = ensure_authority(session, "bench")
        sources = [add_source(session, authority.id, name=f"s{n}", kind="rss", options={}).id
                   for n in range(SOURCES)]
        authority_id = authority.id
    for start in range(0, items, CHUNK):
        with session_scope(factory) as session:
            insert_items(session, item_rows(authority_id, sources, start,
                                         min(CHUNK, items - start)))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE item"))
    return authority_id, sources


def naive_counts(session: Session) -> dict[tuple[int, str], int]:
    """What /metrics ran before the counters."""
    return {(s, c): n for s, c, n in session.execute(
        select(Item.source_id, Item.channel, func.count()).group_by(Item.source_id,
                                                                    Item.channel))}


def bench_metrics(engine: Engine, scrapes: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from ecoute.api.app import create_app
    from ecoute.config.settings import Settings

    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        counted = {(s, c): n for s, c, n in gauges.items_per_source_channel(session)}
        grouped = naive_counts(session)
    assert counted == grouped, "the counters differ from a count of the item table"
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    with TestClient(create_app(settings, engine)) as client:
        assert client.get("/metrics").status_code == 200
        ours = timed(lambda: client.get("/metrics").raise_for_status(), scrapes)

    def naive() -> None:
        with session_scope(factory) as session:
            naive_counts(session)

    naive()
    theirs = timed(naive, max(3, scrapes // 5))
    return {"ours_p50": statistics.median(ours), "ours_p95": p95(ours),
            "naive_p50": statistics.median(theirs), "naive_p95": p95(theirs),
            "equal": counted == grouped, "items": sum(counted.values())}


def bench_write_cost(engine: Engine, authority_id: int, sources: list[int], rows: int
                     ) -> dict[str, float]:
    """µs per item: inserting batches of 200 new items of one source (as the runner writes
    them) with ``insert_items`` (which counts them) against a bare executemany, batch after batch
    in turn so that the machine's load weighs on both alike; then deleting them with the
    counting trigger against without it (four rounds, the order alternated). All rolled
    back."""
    spent = {"add": 0.0, "bare": 0.0}
    deletes: dict[str, list[float]] = {"delete": [], "bare_delete": []}
    first = 10**9
    factory = make_session_factory(engine)
    for round_ in range(4):
        counted = round_ % 2 == 0
        _set_triggers(engine, counted)
        session = factory()
        try:
            names = []
            for k in range(0, rows, 200):
                for how in (("add", "bare") if k // 200 % 2 else ("bare", "add")):
                    batch = item_rows(authority_id, [sources[k // 200 % len(sources)]], first,
                                      200)
                    first += 200
                    names += [row["external_id"] for row in batch]
                    start = time.perf_counter()
                    if how == "add":
                        insert_items(session, batch)
                    else:
                        session.execute(insert(Item), batch)
                    spent[how] += time.perf_counter() - start
            start = time.perf_counter()
            session.execute(delete(Item).where(Item.external_id.in_(names)))
            deletes["delete" if counted else "bare_delete"].append(
                (time.perf_counter() - start) / len(names) * 1e6)
        finally:
            session.rollback()
            session.close()
    _set_triggers(engine, True)
    return {"add": spent["add"] / (4 * rows) * 1e6, "bare": spent["bare"] / (4 * rows) * 1e6,
            **{label: statistics.median(values) for label, values in deletes.items()}}


def _set_triggers(engine: Engine, present: bool) -> None:
    """Drop or re-create the counting triggers of migration item_counts (this benchmark's own
    database only); the counters stay right since every timed insert is rolled back."""
    spec = importlib.util.spec_from_file_location("item_counts", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            conn.execute(text("DROP TRIGGER IF EXISTS item_count_delete ON item"))
            conn.execute(text("DROP TRIGGER IF EXISTS item_count_move ON item"))
            conn.execute(text("DROP FUNCTION IF EXISTS item_count_change()"))
        else:
            for name in ("item_count_delete", "item_count_move"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        if present:
            for statement in (migration.POSTGRESQL_TRIGGERS if postgres
                              else migration.SQLITE_TRIGGERS):
                conn.execute(text(statement))


def rollup_delta(authority_id: int, keys: int, seed: int) -> dict[RollupKey, Counts]:
    rng = random.Random(seed)
    determinants = ("_overall", "courtesy", "waiting_time", "accessibility", "responsiveness")
    delta: dict[RollupKey, Counts] = {}
    while len(delta) < keys:
        key = (authority_id, date(2025, 1, 1) + timedelta(days=rng.randrange(730)),
               rng.choice(determinants), rng.choice(CHANNELS), rng.randrange(21),
               rng.randrange(6), rng.randrange(1, 4), rng.choice(("fr", "en")))
        delta[key] = Counts(pos=rng.randrange(3), neg=rng.randrange(3), neu=1)
    return delta


def apply_one_by_one(session: Session, delta: dict[RollupKey, Counts]) -> None:
    """The former ``_apply``: one INSERT … ON CONFLICT statement per rollup key."""
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite_insert
    for (authority_id, day, determinant, channel, site_id, department_id, _source,
         _lang), c in sorted(delta.items()):
        stmt = dialect_insert(DailyRollup).values(
            authority_id=authority_id, day=day, determinant=determinant, channel=channel,
            site_id=site_id, department_id=department_id, pos=c.pos, neg=c.neg, neu=c.neu,
            rating_sum=c.rating_sum, rating_count=c.rating_count,
        ).on_conflict_do_update(
            index_elements=["authority_id", "day", "determinant", "channel", "site_id",
                            "department_id"],
            set_={"pos": DailyRollup.pos + c.pos, "neg": DailyRollup.neg + c.neg,
                  "neu": DailyRollup.neu + c.neu,
                  "rating_sum": DailyRollup.rating_sum + c.rating_sum,
                  "rating_count": DailyRollup.rating_count + c.rating_count},
        )
        session.execute(stmt)


def bench_rollups(engine: Engine, authority_id: int, keys: int) -> dict[str, Any]:
    factory = make_session_factory(engine)
    results: dict[str, list[float]] = {"ours": [], "naive": []}
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for label, apply in (("naive", apply_one_by_one), ("ours", _apply)):
        with session_scope(factory) as session:
            session.execute(delete(DailyRollup))
        for seed in (1, 2, 1, 2):  # new rows, then increments of existing ones
            delta = rollup_delta(authority_id, keys, seed)
            with session_scope(factory) as session:
                start = time.perf_counter()
                apply(session, delta)
                session.flush()
                results[label].append((time.perf_counter() - start) * 1000)
        with session_scope(factory) as session:
            tables[label] = sorted(tuple(r) for r in session.execute(select(
                DailyRollup.day, DailyRollup.determinant, DailyRollup.channel,
                DailyRollup.site_id, DailyRollup.department_id, DailyRollup.pos,
                DailyRollup.neg, DailyRollup.neu)))
    return {"ours": statistics.median(results["ours"]),
            "naive": statistics.median(results["naive"]),
            "equal": tables["ours"] == tables["naive"]}


def run(engine: Engine, label: str, items: int, scrapes: int, keys: int) -> list[str]:
    started = time.perf_counter()
    authority_id, sources = build(engine, items)
    built = time.perf_counter() - started
    metrics = bench_metrics(engine, scrapes)
    rollups = bench_rollups(engine, authority_id, keys)
    write = bench_write_cost(engine, authority_id, sources, 10_000)
    m, r = metrics, rollups
    return [
        (f"| {label} | {m['items']:,} | {m['ours_p50']:.1f} / {m['ours_p95']:.1f} | "
        f"{m['naive_p50']:.0f} / {m['naive_p95']:.0f} | {m['naive_p50'] / m['ours_p50']:.0f}× | "
        f"{'yes' if m['equal'] else 'NO'} | {r['ours']:.1f} | {r['naive']:.1f} | "
        f"{r['naive'] / r['ours']:.1f}× | {'yes' if r['equal'] else 'NO'} | "
        f"{write['add']:.1f} / {write['bare']:.1f} | "
        f"{write['delete']:.1f} / {write['bare_delete']:.1f} | {built:.0f} s |"),
        (f"- {label}: /metrics p95 {m['ours_p95']:.1f} ms (goal ≤ 100 ms: "
        f"{'PASS' if m['ours_p95'] <= 100 else 'FAIL'}); {keys:,} rollup keys in "
        f"{r['ours']:.1f} ms vs {r['naive']:.1f} ms one by one"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--pg-items", type=int, default=300_000)
    parser.add_argument("--scrapes", type=int, default=30)
    parser.add_argument("--keys", type=int, default=2000,
                        help="rollup keys per delta (a 256-item batch gives about 2,000)")
    args = parser.parse_args()
    header = [("| database | items | /metrics p50 / p95 ms | naive GROUP BY p50 / p95 ms | "
              "ratio | same counts | rollup delta ms (executemany) | one statement per key "
              "ms | ratio | same rollups | insert µs/item counted / bare | delete µs/item with / "
              "without trigger | build |"),
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    rows, notes = [], []
    # The build time counts the migrations: build() runs them.
    with bench_store(migrate=False) as engine:
        row, note = run(engine, "SQLite", args.items, args.scrapes, args.keys)
        rows.append(row)
        notes.append(note)
    if args.pg_url:
        with bench_store(args.pg_url, migrate=False) as engine:
            row, note = run(engine, "PostgreSQL", args.pg_items, args.scrapes, args.keys)
            rows.append(row)
            notes.append(note)
    print("\n".join(header + rows))
    print()
    print("\n".join(notes))
    print(f"\n(cores: {os.cpu_count()})")


if __name__ == "__main__":
    main()
