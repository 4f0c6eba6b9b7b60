"""``/api/v1/satisfaction`` and ``/satisfaction/timeseries`` at a million items, against a
GROUP BY over the items' mentions, with identical numbers.

    python benchmarks/bench_satisfaction.py [--items 1000000] [--runs 30]
        [--pg-url postgresql://... --pg-items 300000]

Builds a migrated store (SQLite always; PostgreSQL when ``--pg-url`` is given) holding
``--items`` classified items over the 730 days before today, 3 channels, 20 sites, 5
departments, 6 sources and 3 languages, each with its sentiment and one or two determinant
mentions. The rollups are written by the project's own code (``store.taggings._apply``, the
upsert every classification batch runs, here one batch per ten days). Beside them the
benchmark writes the naive side: one row per item and counted determinant with its local day,
channel, site, department, source, language and polarity — what any GROUP BY over the items
must read at least (the real one also joins taggings and tags and converts time zones).

Each case is requested through the app in-process (``--runs`` times after two warm-up
requests), then computed by the naive GROUP BY (every window the answer holds: the window, the
previous one and a year before; per group or per bucket), and the two must give the same
counts. Prints p50/p95 of both and the ratios, as the markdown section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Date,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    text,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _store import bench_store, store_url  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from ecoute.api.app import create_app  # noqa: E402
from ecoute.assessment.satisfaction import authority_today  # noqa: E402
from ecoute.assessment.windows import (  # noqa: E402
    Window,
    parse_window,
    period_start,
    previous_window,
    year_before,
)
from ecoute.config.settings import Settings  # noqa: E402
from ecoute.domain import DETERMINANTS, OVERALL  # noqa: E402
from ecoute.store.authorities import Places, ensure_authority  # noqa: E402
from ecoute.store.db import make_session_factory, session_scope, upgrade  # noqa: E402
from ecoute.store.models import Source  # noqa: E402
from ecoute.store.taggings import Counts, RollupKey, _apply  # noqa: E402

BUDGET_MS = 50.0
GOAL_RATIO = 20.0
CHANNELS = ("review", "complaint", "phone")
LANGS = ("fr", "en", "de")
POLARITY = ("positive", "neutral", "negative")

meta = MetaData()
mention = Table(
    "bench_item_mention", meta,
    Column("day", Date), Column("determinant", String(64)), Column("channel", String(24)),
    Column("site_id", Integer), Column("department_id", Integer),
    Column("source_id", Integer), Column("lang", String(16)), Column("polarity", Integer),
)
NAIVE_COLUMN = {"channel": mention.c.channel, "site": mention.c.site_id,
                "department": mention.c.department_id, "source": mention.c.source_id,
                "lang": mention.c.lang}


def build(engine: Engine, items: int, seed: int = 1) -> tuple[dict[str, list[Any]], int]:
    """The store and the naive table; returns the dimension values and the rollup rows."""
    upgrade(engine)
    meta.create_all(engine)
    factory = make_session_factory(engine)
    rng = random.Random(seed)
    with session_scope(factory) as session:
        authority = ensure_authority(session, "bench", timezone="Europe/Paris")
        places = Places(authority.id)
        sites = [places.site_id(session, f"site {n}") for n in range(20)]
        departments = [places.department_id(session, f"dept {n}") for n in range(5)]
        sources = []
        for n in range(6):
            source = Source(authority_id=authority.id, kind="push", name=f"source {n}")
            session.add(source)
            session.flush()
            sources.append(source.id)
        authority_id = authority.id
        today = authority_today(authority)
    days = [today - timedelta(days=n) for n in range(730)]
    per_day: dict[date, int] = defaultdict(int)
    for _ in range(items):
        per_day[days[int(rng.random() ** 1.3 * 730)]] += 1  # more recent feedback than old
    for chunk in range(0, 730, 10):
        delta: dict[RollupKey, Counts] = {}
        naive: list[dict[str, Any]] = []
        for day in days[chunk:chunk + 10]:
            for _ in range(per_day[day]):
                channel = CHANNELS[rng.randrange(3)]
                source = sources[CHANNELS.index(channel) * 2 + rng.randrange(2)]
                site, department = rng.choice(sites), rng.choice(departments)
                lang = rng.choices(LANGS, (80, 15, 5))[0]
                sentiment = rng.choices((0, 1, 2), (45, 15, 40))[0]
                counted = [(OVERALL, sentiment)] + [
                    (d, sentiment if rng.random() < 0.8 else rng.choice((0, 2)))
                    for d in rng.sample(DETERMINANTS, rng.choice((1, 1, 2)))]
                for determinant, polarity in counted:
                    key = (authority_id, day, determinant, channel, site or 0, department or 0,
                           source, lang)
                    delta.setdefault(key, Counts()).add(POLARITY[polarity], 1)
                    naive.append({"day": day, "determinant": determinant, "channel": channel,
                                  "site_id": site, "department_id": department,
                                  "source_id": source, "lang": lang, "polarity": polarity})
        with session_scope(factory) as session:
            _apply(session, delta)
            session.execute(insert(mention), naive)
    with engine.begin() as conn:
        conn.execute(text("CREATE INDEX ix_bench_mention_day ON bench_item_mention (day)"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM satisfaction_rollup")).scalar_one()
    values = {"channel": list(CHANNELS), "site": sites, "department": departments,
              "source": sources, "lang": list(LANGS)}
    return values, int(rows)


def naive_counts(engine: Engine, window: Window, filters: dict[str, Any],
                 group: str | None, bucket: Callable[[date], date] | None = None,
                 determinant: str | None = None) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    """pos, neu, neg per (group value, determinant, bucket) from the mention rows."""
    m = mention
    keys: list[Any] = [m.c.determinant] + ([NAIVE_COLUMN[group]] if group else []) + \
        ([m.c.day] if bucket else [])
    query = select(*keys, m.c.polarity, func.count()).where(
        m.c.day >= window.start, m.c.day <= window.end).group_by(*keys, m.c.polarity)
    for name, value in filters.items():
        query = query.where(NAIVE_COLUMN[name] == value)
    if determinant:
        query = query.where(m.c.determinant == determinant)
    out: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    with engine.connect() as conn:
        for row in conn.execute(query):
            *key, polarity, count = row
            if bucket:
                key[-1] = bucket(key[-1])
            if group:
                key[1] = str(key[1] or 0)
            out[tuple(key)][polarity] += count
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def _counts(figure: dict[str, Any]) -> tuple[int, int, int]:
    return figure["positive"], figure["neutral"], figure["negative"]


def check_satisfaction(engine: Engine, body: dict[str, Any], today: date,
                       filters: dict[str, Any], group: str | None) -> None:
    window = parse_window(body["window"], today)
    windows = {"now": window, "previous": previous_window(window),
               "year_before": year_before(window)}
    for name, w in windows.items():
        naive = naive_counts(engine, w, filters, None)
        for figure in [body["overall"], *body["determinants"]]:
            got = _counts(figure) if name == "now" else (
                None if figure[name] is None else
                (figure[name]["positive"], None, figure[name]["n"] - figure[name]["positive"]))
            want = naive.get((figure["determinant"],), (0, 0, 0))
            if got is None:
                assert sum(naive.get((OVERALL,), (0, 0, 0))) == 0, (name, figure)
            elif got[1] is None:
                assert (got[0], got[2]) == (want[0], want[2]), (name, figure, want)
            else:
                assert got == want, (name, figure, want)
    if group:
        naive = naive_counts(engine, window, filters, group)
        got = {(OVERALL, g["value"]): _counts(g["figure"]) for g in body["groups"]}
        assert got == {k: v for k, v in naive.items() if k[0] == OVERALL}, (group, got)


def check_series(engine: Engine, body: dict[str, Any], filters: dict[str, Any]) -> None:
    granularity = body["granularity"]
    window = Window(date.fromisoformat(body["start"]), date.fromisoformat(body["end"]))

    def bucket(day: date) -> date:
        return day if granularity == "day" else period_start(granularity, day)

    naive = naive_counts(engine, window, filters, None, bucket, body["determinant"])
    got = {(body["determinant"], date.fromisoformat(p["start"])): _counts(p["figure"])
           for p in body["points"] if sum(_counts(p["figure"]))}
    assert got == naive, (body["granularity"], len(got), len(naive))


def timed(call: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    result = call()
    call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[18] if len(times) > 1 else times[0]


def cases(values: dict[str, list[Any]]) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """(path, params, group_by) of every case measured."""
    filters: list[dict[str, Any]] = [{}, {"channel": "review"}, {"site_id": values["site"][3]},
                                     {"department_id": values["department"][1]},
                                     {"source_id": values["source"][2]}, {"lang": "en"}]
    for window in ("7d", "30d", "90d", "365d", "month", "quarter", "year"):
        yield "satisfaction", {"window": window}, None
    for f in filters[1:]:
        yield "satisfaction", {"window": "365d", **f}, None
    for group in ("site", "source", "channel"):
        yield "satisfaction", {"window": "365d", "group_by": group}, group
    yield "satisfaction", {"window": "90d", "group_by": "department"}, "department"
    for granularity in ("day", "week", "month"):
        yield "satisfaction/timeseries", {"granularity": granularity}, None
    yield "satisfaction/timeseries", {"granularity": "day", "window": "365d",
                                      "determinant": "courtesy"}, None
    yield "satisfaction/timeseries", {"granularity": "week", "window": "365d",
                                      **filters[2]}, None
    yield "satisfaction/timeseries", {"granularity": "month", "window": "730d",
                                      **filters[5]}, None


def _naive_filters(params: dict[str, Any]) -> dict[str, Any]:
    names = {"channel": "channel", "site_id": "site", "department_id": "department",
             "source_id": "source", "lang": "lang"}
    return {names[k]: v for k, v in params.items() if k in names}


def run(engine: Engine, items: int, runs: int, folder: Path) -> None:
    started = time.perf_counter()
    values, rows = build(engine, items)
    built = time.perf_counter() - started
    settings = Settings(database_url=store_url(engine), default_authority="bench",
                        cache_dir=folder)
    client = TestClient(create_app(settings, engine))
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    print(f"## Satisfaction windows, groups and series ({engine.dialect.name}, "
          f"{items:,} items)\n")
    print(f"`python benchmarks/bench_satisfaction.py` — {items:,} classified items over 730 "
          f"days; rollups written by `taggings._apply` ({rows:,} `satisfaction_rollup` rows); "
          f"built in {built:.0f} s. {runs} requests per case through the app (in-process) "
          "against the naive GROUP BY over one row per item and counted determinant for every "
          "window the answer holds (the window, the previous one and a year before, per group "
          "or bucket); every case asserts identical counts.\n")
    print("| case | ours p50 ms | ours p95 ms | naive p95 ms | naive / ours | "
          "p95 / 50 ms |\n|---|---:|---:|---:|---:|---:|")
    met = 0
    total = 0
    for path, params, group in cases(values):
        times, response = timed(lambda: client.get(f"/api/v1/{path}", params=params), runs)
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        filters = _naive_filters(params)
        naive_runs = max(3, runs // 10)
        if path == "satisfaction":
            naive_times, _ = timed(lambda: check_satisfaction(engine, body, today, filters,
                                                              group), naive_runs)
        else:
            naive_times, _ = timed(lambda: check_series(engine, body, filters), naive_runs)
        ours, naive = p95(times), p95(naive_times)
        total += 1
        met += ours <= BUDGET_MS and naive / ours >= GOAL_RATIO
        query = "&".join(f"{k}={v}" for k, v in params.items())
        print(f"| `{path}?{query}` | {statistics.median(times):.1f} | {ours:.1f} | "
              f"{naive:.0f} | {naive / ours:.0f}× | {ours / BUDGET_MS:.2f} |")
    print(f"\n{met} of {total} cases meet both goals (p95 ≤ {BUDGET_MS:.0f} ms and "
          f"≥ {GOAL_RATIO:.0f}× the naive query); {total} of {total} give identical counts.\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--pg-items", type=int, default=300_000)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ecoute-bench-satisfaction-"))
    # The build time counts the migrations: build() runs them.
    if not args.skip_sqlite:
        with bench_store(None, folder, migrate=False) as engine:
            run(engine, args.items, args.runs, folder)
    if args.pg_url:
        with bench_store(args.pg_url, migrate=False) as engine:
            run(engine, args.pg_items, args.runs, folder)


if __name__ == "__main__":
    main()
