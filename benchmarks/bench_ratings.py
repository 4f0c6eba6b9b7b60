"""Time of the rating figures (mean, CSAT share, NPS per scale) on a large item table, against
the plain query that dates items by ``coalesce(published_at, collected_at)``.

    python benchmarks/bench_ratings.py [--items 1000000] [--rated 0.2] [--url postgresql://...]

The database is built by the real migrations and holds ``--items`` items (default one million)
over two years, a fifth of them rated (1-5, 0-10, yes/no, 1-7), one in ten without a publication
date. "ours" is ``assessment.ratings.ratings`` (current and previous window; per window two range
reads of the partial index ``ix_item_rated``, or beyond ``store.ratings.LONG_PERIOD`` one read
of ``ix_item_rated_answers`` in answer order); "coalesced" computes the same figures from one
grouped query per window dated by ``coalesce(published_at, collected_at)`` (what ours is for
long periods), "no index" the same once the two rating indexes are dropped. The answers are checked equal. Prints p50 of each,
the ratios to ours and our p95 against the 200 ms budget of a dashboard page, as the markdown
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _store import bench_store  # noqa: E402
from ecoute.assessment.ratings import (  # noqa: E402
    _utc_bounds,
    previous_window,
    rating_figures,
    ratings,
)
from ecoute.assessment.satisfaction import Window  # noqa: E402
from ecoute.domain import Channel  # noqa: E402
from ecoute.store.authorities import ensure_authority  # noqa: E402
from ecoute.store.db import make_session_factory, session_scope  # noqa: E402
from ecoute.store.models import Authority, Item  # noqa: E402
from ecoute.store.ratings import RatingCount, RatingFilters  # noqa: E402
from ecoute.store.sources import add_source  # noqa: E402

BUDGET_MS = 200.0
SCALES = {"1-5": (1, 5), "0-10": (0, 10), "yes/no": (0, 1), "1-7": (1, 7)}
CASES = [("30d", 30, None), ("90d", 90, None), ("365d", 365, None), ("30d, survey", 30, "survey"),
         ("365d, survey", 365, "survey")]


def build_items(factory: object, items: int, rated: float, now: datetime, seed: int = 1) -> None:
    rng = random.Random(seed)
    with session_scope(factory) as session:  # type: ignore[arg-type]
        authority = ensure_authority(session, "bench", name="Bench", timezone="Europe/Paris")
        source_id = add_source(session, authority.id, name="bench", kind="push", options={}).id
        authority_id = authority.id
    channels = [c.value for c in Channel]
    batch: list[dict[str, object]] = []
    for n in range(items):
        when = now - timedelta(minutes=int(rng.random() ** 1.3 * 730 * 24 * 60))
        row: dict[str, object] = {
            "authority_id": authority_id, "source_id": source_id, "external_id": f"e{n}",
            "content_hash": f"{n:x}", "channel": rng.choice(channels), "text": "réponse",
            "extra": {}, "published_at": None if rng.random() < 0.1 else when,
            "collected_at": when + timedelta(hours=1),
        }
        if rng.random() < rated:
            scale = rng.choice(list(SCALES))
            low, high = SCALES[scale]
            value = float(rng.randint(int(low), int(high)))
            row.update(rating_scale=scale, rating_value=value,
                       rating_norm=(value - low) / (high - low))
        batch.append(row)
        if len(batch) == 20_000:
            with session_scope(factory) as session:  # type: ignore[arg-type]
                session.execute(insert(Item), batch)
            batch = []
    if batch:
        with session_scope(factory) as session:  # type: ignore[arg-type]
            session.execute(insert(Item), batch)


def naive_counts(session: Session, authority: Authority, window: Window,
                 channel: str | None) -> list[RatingCount]:
    """One grouped query dating items by ``coalesce(published_at, collected_at)``."""
    start, end = _utc_bounds(authority, window)
    dated = func.coalesce(Item.published_at, Item.collected_at)
    query = (select(Item.rating_scale, Item.rating_value, Item.rating_norm, func.count())
             .where(Item.authority_id == authority.id, Item.rating_scale.is_not(None),
                    dated >= start, dated < end)
             .group_by(Item.rating_scale, Item.rating_value, Item.rating_norm))
    if channel:
        query = query.where(Item.channel == channel)
    return [RatingCount(s, v, r, int(n)) for s, v, r, n in session.execute(query)]


def timed(call: object, runs: int) -> tuple[list[float], object]:
    result = call()  # type: ignore[operator]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = call()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--rated", type=float, default=0.2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--url", default=None,
                        help="PostgreSQL URL (a schema of its own is made and dropped); "
                        "default: a SQLite file in a temporary folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ecoute-bench-ratings-"))
    with bench_store(args.url, folder) as engine:
        factory = make_session_factory(engine)
        started = time.perf_counter()
        now = datetime.now(UTC)
        build_items(factory, args.items, args.rated, now)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE item"))
        built = time.perf_counter() - started
        print(f"## Rating figures ({engine.dialect.name})\n")
        print(f"`python benchmarks/bench_ratings.py --items {args.items} --rated {args.rated}"
              + (" --url …" if args.url else "") + f"`: {args.items:,} items over 730 days, "
              f"{args.rated:.0%} rated (built in {built:.0f} s); each figure is the window and "
              f"the previous one, {args.runs} runs after one warm-up.\n")
        print("| window | ours p50 ms | ours p95 ms | coalesced p50 ms | coalesced / ours "
              "| no index p50 ms | no index / ours | ours p95 / 200 ms |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|")
        rows: dict[str, list[str]] = {}
        ours_p50: dict[str, float] = {}
        expected: dict[str, object] = {}
        with session_scope(factory) as session:
            authority = ensure_authority(session, "bench")
            today = now.astimezone(ZoneInfo(authority.timezone)).date()
            windows = {label: (Window(today - timedelta(days=days - 1), today), channel)
                       for label, days, channel in CASES}

            def naive(label: str) -> object:
                window, channel = windows[label]
                return tuple(rating_figures(naive_counts(session, authority, span, channel),
                                            30)[0] for span in (window, previous_window(window)))

            naive_runs = max(3, args.runs // 4)
            for label, (window, channel) in windows.items():
                times, report = timed(lambda w=window, c=channel: ratings(
                    session, authority, w, filters=RatingFilters(channel=c)), args.runs)
                expected[label] = (report.overall.now, report.overall.before)
                ours_p50[label] = statistics.median(times)
                p95 = statistics.quantiles(times, n=20)[18]
                whole, answer = timed(lambda lb=label: naive(lb), naive_runs)
                # The same figures, or the comparison means nothing.
                assert answer == expected[label]
                rows[label] = [label, f"{ours_p50[label]:.1f}", f"{p95:.1f}",
                               f"{statistics.median(whole):.1f}",
                               f"{statistics.median(whole) / ours_p50[label]:.1f}",
                               f"{p95 / BUDGET_MS:.2f}"]
            plans = ""
            if engine.dialect.name == "sqlite":
                short = ("published_at >= '2026-01-01' AND published_at < '2026-02-01'")
                long = ("rating_norm IS NOT NULL AND "
                        "coalesce(published_at, collected_at) >= '2025-01-01' AND "
                        "coalesce(published_at, collected_at) < '2026-01-01'")
                for dated in (short, long):
                    plan = session.execute(text(
                        "EXPLAIN QUERY PLAN SELECT rating_scale, rating_value, rating_norm, "
                        "count(*) FROM item WHERE authority_id = 1 AND rating_scale IS NOT NULL "
                        f"AND {dated} GROUP BY 1, 2, 3")).all()
                    plans += f"\n- `{dated}`: " + "; ".join(str(r[-1]) for r in plan)
        # What the same query costs on a table without the rating index.
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_item_rated"))
            conn.execute(text("DROP INDEX ix_item_rated_answers"))
        with session_scope(factory) as session:
            authority = ensure_authority(session, "bench")
            for label in windows:
                scan, answer = timed(lambda lb=label: naive(lb), naive_runs)
                assert answer == expected[label]
                p50 = statistics.median(scan)
                rows[label][-1:-1] = [f"{p50:.1f}", f"{p50 / ours_p50[label]:.1f}"]
                print("| " + " | ".join(rows[label]) + " |")
        if plans:
            print(f"\nSQLite plans:{plans}")

if __name__ == "__main__":
    main()
