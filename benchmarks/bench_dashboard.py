"""Server-side time of the dashboard's overview and trends pages on a large database.

    python benchmarks/bench_dashboard.py [--items 1000000] [--url postgresql://...] [--runs 40]

The database is built by the real migrations and holds the rollups of ``--items``
classified items (default one million) spread over two years, 10 channels, 12 sites and 8
departments, each item with its sentiment and one or two determinant mentions. The item rows
themselves are not written (the rollups are, by ``taggings._apply``): these pages read the
rollups only (as every satisfaction figure does), so the items would change nothing but the
build time. Each page is requested through the app in-process (routing, queries, template rendering; no network), ``--runs`` times
after two warm-up requests; prints p50, p95 and p95 over the 200 ms budget, as the markdown
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _store import bench_store, store_url  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from ecoute.api.app import create_app  # noqa: E402
from ecoute.api.web.figures import calendar_windows  # noqa: E402
from ecoute.assessment.satisfaction import Filters, group_reports, satisfaction  # noqa: E402
from ecoute.assessment.windows import parse_window  # noqa: E402
from ecoute.store.authorities import get_authority, list_departments, list_sites  # noqa: E402
from ecoute.config.settings import Settings  # noqa: E402
from ecoute.domain import DETERMINANTS, OVERALL, Channel  # noqa: E402
from ecoute.store.authorities import Places, ensure_authority  # noqa: E402
from ecoute.store.db import make_session_factory, session_scope  # noqa: E402
from ecoute.store.taggings import Counts, RollupKey, _apply  # noqa: E402

BUDGET_MS = 200.0
PAGES = ["/?window=30d", "/?window=90d", "/?window=year", "/?window=30d&channel=review",
         "/trends?step=month", "/trends?step=week", "/trends?step=month&channel=survey",
         "/trends?step=month&source_id=3", "/trends?step=week&lang=en",
         "/departments?window=90d", "/departments?window=year&by=site",
         # The previous whole month and quarter of the period selector.
         *(f"/?window={name}" for name in calendar_windows(date.today())[3:6:2])]
LANGUAGES = (("fr", 80), ("en", 15), ("es", 5))


def build_rollups(factory: object, items: int, today: date, seed: int = 1) -> int:
    """Rollup rows for ``items`` items over the 730 days before ``today``; returns the rows."""
    rng = random.Random(seed)
    with session_scope(factory) as session:  # type: ignore[arg-type]
        authority = ensure_authority(session, "bench", name="Bench")
        places = Places(authority.id)
        sites = [places.site_id(session, f"site {n}") for n in range(12)]
        departments = [places.department_id(session, f"dept {n}") for n in range(8)]
        authority_id = authority.id
    channels = [c.value for c in Channel]
    weights = [30, 20, 10, 15, 10, 2, 5, 2, 4, 2]
    counts: dict[tuple[date, str, str, int, int, int, str], list[int]] = \
        defaultdict(lambda: [0, 0, 0])
    languages, language_weights = zip(*LANGUAGES, strict=True)
    days = [today - timedelta(days=n) for n in range(730)]
    for _ in range(items):
        day = days[int(rng.random() ** 1.3 * 730)]  # more recent feedback than old
        channel = rng.choices(channels, weights)[0]
        site, department = rng.choice(sites), rng.choice(departments)
        # One source per channel (as an authority's feeds, survey files and logs are), so
        # the source adds no rows to the daily rollups; languages mostly French.
        source = channels.index(channel) + 1
        lang = rng.choices(languages, language_weights)[0]
        sentiment = rng.choices((0, 1, 2), (45, 15, 40))[0]
        counts[(day, OVERALL, channel, site, department, source, lang)][sentiment] += 1
        for determinant in rng.sample(DETERMINANTS, rng.choice((1, 1, 2))):
            polarity = sentiment if rng.random() < 0.8 else rng.choice((0, 2))
            counts[(day, determinant, channel, site, department, source, lang)][polarity] += 1
    # Written by the project's own upsert, so that every rollup the pages read is there.
    delta: dict[RollupKey, Counts] = {}
    for (day, determinant, channel, site, department, source, lang), c in counts.items():
        delta[(authority_id, day, determinant, channel, site or 0, department or 0, source,
               lang)] = Counts(pos=c[0], neu=c[1], neg=c[2])
    keys = sorted(delta)
    for start in range(0, len(keys), 50_000):
        with session_scope(factory) as session:  # type: ignore[arg-type]
            _apply(session, {k: delta[k] for k in keys[start:start + 50_000]})
    return len(counts)


def measure(client: TestClient, path: str, runs: int) -> list[float]:
    for _ in range(2):
        assert client.get(path).status_code == 200
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text[:500]
    return times


def compare_groupings(factory: object, runs: int) -> None:
    """The departments page's figures read per group in one go against one filtered report
    per group (what the page did before), over a year."""
    with session_scope(factory) as session:  # type: ignore[arg-type]
        authority = get_authority(session, "bench")
        window = parse_window("365d", date.today())
        print("\n| groups over 365 days | one read p50 ms | one per group p50 ms | "
              "one read / one per group |\n|---|---:|---:|---:|")
        for by, listed in (("department", list_departments), ("site", list_sites)):
            ids = [g.id for g in listed(session, authority.id)]
            ours, naive = [], []
            for _ in range(runs):
                start = time.perf_counter()
                group_reports(session, authority, window, by, [str(i) for i in ids])
                ours.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                for group_id in ids:
                    satisfaction(session, authority, window, filters=Filters(
                        **{f"{by}_id": group_id}))  # type: ignore[arg-type]
                naive.append((time.perf_counter() - start) * 1000)
            mine, theirs = statistics.median(ours), statistics.median(naive)
            print(f"| {len(ids)} {by}s | {mine:.0f} | {theirs:.0f} | {mine / theirs:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--url", default=None,
                        help="PostgreSQL URL (a schema of its own is made and dropped); "
                        "default: a SQLite file in a temporary folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ecoute-bench-dashboard-"))
    with bench_store(args.url, folder) as engine:
        factory = make_session_factory(engine)
        started = time.perf_counter()
        rows = build_rollups(factory, args.items, date.today())
        if engine.dialect.name == "postgresql":
            # As autovacuum would after a bulk load: the visibility map lets the figures be
            # read from the index alone, and the statistics choose that plan.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        built = time.perf_counter() - started
        settings = Settings(database_url=store_url(engine), default_authority="bench",
                            cache_dir=folder)
        client = TestClient(create_app(settings, engine))
        print(f"## Dashboard pages ({engine.dialect.name})\n")
        print(f"`python benchmarks/bench_dashboard.py --items {args.items}"
              + (" --url …" if args.url else "") + f"`: rollups of {args.items:,} items over "
              f"730 days ({rows:,} rows, built in {built:.0f} s); {args.runs} requests per "
              "page after two warm-up ones, in-process (queries and rendering, no network).\n")
        print("| page | p50 ms | p95 ms | p95 / 200 ms budget |\n|---|---:|---:|---:|")
        for path in PAGES:
            times = measure(client, path, args.runs)
            p95 = statistics.quantiles(times, n=20)[18]
            print(f"| `{path}` | {statistics.median(times):.0f} | {p95:.0f} | "
                  f"{p95 / BUDGET_MS:.2f} |")
        compare_groupings(factory, args.runs)


if __name__ == "__main__":
    main()
