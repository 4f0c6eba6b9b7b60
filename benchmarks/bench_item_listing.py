"""``GET /api/v1/items`` pages at any depth: our keyset page against the previous cursor query
and the naive OFFSET, in one run.

    python benchmarks/bench_item_listing.py [--items 1000000] [--postgres URL --pg-items 300000]

Builds a database by the migrations and fills it through ``store.items.insert_items`` (the
one insert path, which sets the sort key): two authorities, the measured one holding 90 % of
the items, dates spread over three years with many items per second and 10 % undated. Then,
for pages of 50 at several depths (ranks), times in turns:

- ours: ``store.item_listing.list_items`` from the cursor of the item before that rank;
- before: the cursor query it replaces (``published_at < :t OR (= :t AND id < :id) OR
  published_at IS NULL ... ORDER BY published_at DESC NULLS LAST, id DESC``), whose NULL
  branch and NULLS LAST kept both databases from walking an index;
- OFFSET: the naive ``ORDER BY ... NULLS LAST OFFSET :rank``.

All three must return the same items (checked at every depth). Prints a Markdown table for
docs/benchmarks.md; the verdict is ours p95 ≤ 50 ms at every depth.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine, and_, or_, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _store import bench_store  # noqa: E402
from ecoute.store.item_listing import ItemFilters, _encode_cursor, list_items  # noqa: E402
from ecoute.store.items import insert_items  # noqa: E402
from ecoute.store.models import Authority, Item, Source, utcnow  # noqa: E402

PAGE = 50
START = datetime(2023, 1, 1, tzinfo=timezone.utc)
THREE_YEARS = 3 * 365 * 86400


def build(engine: Engine, count: int) -> int:
    """``count`` items; returns the id of the authority that holds most of them."""
    rng = random.Random(7)
    with Session(engine) as session, session.begin():
        owners = []
        for slug in ("valmont", "autreville"):
            authority = Authority(slug=slug, name=slug, timezone="Europe/Paris", locale="fr")
            session.add(authority)
            session.flush()
            sources = []
            for n in range(3):
                source = Source(authority_id=authority.id, kind="push", name=f"s{n}",
                                options={}, schedule="manual")
                session.add(source)
                session.flush()
                sources.append(source.id)
            owners.append((authority.id, sources))
    now = utcnow()
    step = 20_000
    for start in range(0, count, step):
        rows = []
        for n in range(start, min(start + step, count)):
            owner, sources = owners[0] if n % 10 else owners[1]
            # Whole seconds: many items share a date, so the id really breaks ties.
            when = (START + timedelta(seconds=rng.randrange(THREE_YEARS // 20) * 20)
                    if rng.random() > 0.1 else None)
            rows.append(dict(
                authority_id=owner, source_id=sources[n % 3], external_id=f"x-{n}",
                content_hash=f"{n:064x}", channel=("review", "complaint", "email")[n % 3],
                title=None, text=f"avis numéro {n}", lang="fr", published_at=when,
                collected_at=now, extra={}))
        with Session(engine) as session, session.begin():
            insert_items(session, rows)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return owners[0][0]


_ORDER = (Item.published_at.desc().nulls_last(), Item.id.desc())


def before(session: Session, authority_id: int, after: Item) -> list[int]:
    """The cursor query ecoute ran before the sort key (whole items, as a page needs them)."""
    query = select(Item).where(Item.authority_id == authority_id)
    if after.published_at is None:
        query = query.where(Item.published_at.is_(None), Item.id < after.id)
    else:
        query = query.where(or_(Item.published_at < after.published_at,
                                and_(Item.published_at == after.published_at,
                                     Item.id < after.id),
                                Item.published_at.is_(None)))
    return [i.id for i in session.scalars(query.order_by(*_ORDER).limit(PAGE))]


def offset(session: Session, authority_id: int, rank: int) -> list[int]:
    return [i.id for i in session.scalars(select(Item).where(Item.authority_id == authority_id)
                                          .order_by(*_ORDER).offset(rank).limit(PAGE))]


def _timed(engine: Engine, run: Callable[[Session], list[int]]) -> tuple[float, list[int]]:
    with Session(engine) as session:
        start = time.perf_counter()
        found = run(session)
        seconds = time.perf_counter() - start
        session.rollback()
    return seconds, found


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def depth_rows(engine: Engine, authority_id: int, ranks: list[int], rounds: int,
               naive_rounds: int) -> list[tuple[int, dict[str, float]]]:
    out = []
    filters = ItemFilters(authority_id=authority_id)
    for rank in ranks:
        with Session(engine) as session:
            # The item just before the rank, found once the slow way: its cursor is what the
            # previous page handed out.
            prior = session.scalar(select(Item).where(Item.authority_id == authority_id)
                                   .order_by(*_ORDER).offset(rank - 1).limit(1)) if rank else None
            session.expunge_all()
        cursor = _encode_cursor(prior) if prior is not None else None

        def ours(session: Session) -> list[int]:
            return [i.id for i in list_items(session, filters, limit=PAGE, cursor=cursor)[0]]

        times: dict[str, list[float]] = {"ours": [], "before": [], "offset": []}
        expected: list[int] | None = None
        for turn in range(rounds):
            seconds, found = _timed(engine, ours)
            times["ours"].append(seconds)
            if turn < naive_rounds:
                if prior is not None:
                    seconds, old = _timed(engine, lambda s: before(s, authority_id, prior))
                    times["before"].append(seconds)
                    assert old == found, f"the previous cursor query disagrees at {rank}"
                seconds, expected = _timed(engine, lambda s: offset(s, authority_id, rank))
                times["offset"].append(seconds)
                assert expected == found, f"OFFSET disagrees at rank {rank}"
        if not times["before"]:
            times["before"] = times["offset"]  # the first page has no cursor
        out.append((rank, {f"{k}_{stat}": f(v) for k, v in times.items()
                           for stat, f in (("p50", statistics.median), ("p95", p95))}))
    return out


def table(label: str, count: int, owned: int, rows: list[tuple[int, dict[str, float]]]
          ) -> list[str]:
    lines = [f"{label}, {count:,} items ({owned:,} of the authority listed), pages of {PAGE}:",
             "", "| rank | ours p50 / p95 ms | before p50 / p95 ms | OFFSET p50 / p95 ms | "
             "before/ours (p95) | OFFSET/ours (p95) | ours p95 / 50 ms limit |",
             "|---|---|---|---|---|---|---|"]
    for rank, s in rows:
        lines.append(
            f"| {rank:,} | {s['ours_p50'] * 1e3:.1f} / {s['ours_p95'] * 1e3:.1f} | "
            f"{s['before_p50'] * 1e3:.1f} / {s['before_p95'] * 1e3:.1f} | "
            f"{s['offset_p50'] * 1e3:.1f} / {s['offset_p95'] * 1e3:.1f} | "
            f"{s['before_p95'] / s['ours_p95']:.1f}× | {s['offset_p95'] / s['ours_p95']:.1f}× | "
            f"{s['ours_p95'] / 0.05:.2f} |")
    return lines


def scenario(engine: Engine, count: int, rounds: int, naive_rounds: int
             ) -> tuple[int, list[tuple[int, dict[str, float]]]]:
    started = time.perf_counter()
    authority_id = build(engine, count)
    print(f"built {count:,} items in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with Session(engine) as session:
        owned = int(session.scalar(text("SELECT count(*) FROM item WHERE authority_id = :a"),
                                   {"a": authority_id}) or 0)
    ranks = sorted({0, 1_000, owned // 9, owned // 2, owned - PAGE - 1000, owned - PAGE})
    return owned, depth_rows(engine, authority_id, ranks, rounds, naive_rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--naive-rounds", type=int, default=8)
    parser.add_argument("--postgres", help="also run on this PostgreSQL database (a schema "
                        "of its own is created and dropped)")
    parser.add_argument("--pg-items", type=int, default=300_000)
    args = parser.parse_args()
    lines: list[str] = []
    verdicts = []
    with bench_store() as engine:
        owned, rows = scenario(engine, args.items, args.rounds, args.naive_rounds)
    lines += table("SQLite", args.items, owned, rows)
    verdicts.append(("SQLite", args.items, max(s["ours_p95"] for _r, s in rows)))
    if args.postgres:
        with bench_store(args.postgres) as engine:
            owned, rows = scenario(engine, args.pg_items, args.rounds, args.naive_rounds)
        lines += ["", *table("PostgreSQL", args.pg_items, owned, rows)]
        verdicts.append(("PostgreSQL", args.pg_items, max(s["ours_p95"] for _r, s in rows)))
    lines.append("")
    for name, count, seconds in verdicts:
        lines.append(f"verdict, {name} at {count:,} items (ours p95 ≤ 50 ms at every depth): "
                     f"{seconds * 1e3:.1f} ms, {'PASS' if seconds <= 0.05 else 'FAIL'}")
    print("\n".join(lines))
    sys.exit(0 if all(seconds <= 0.05 for _n, _c, seconds in verdicts) else 1)


if __name__ == "__main__":
    main()
