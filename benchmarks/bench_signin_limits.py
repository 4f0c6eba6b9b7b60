"""What counting failed sign-ins costs each API request that carries a key, at rest and
under a guessing attack, against the request without it and against the same check without
its index.

    python benchmarks/bench_signin_limits.py [--requests 2000] [--attack-rows 200000]
        [--pg-url postgresql://...]

For each database (SQLite always; PostgreSQL when ``--pg-url`` is given) it builds a migrated
store with one authority and one key, then measures in the same run, the variants taking turns
request by request so that the load of a shared machine falls on all alike, one unit of work
each as ``api.deps._current_key`` opens it:

- before: ``authenticate`` alone (the request without sign-in limits);
- ours: ``check_signin`` + ``authenticate`` + ``signin_succeeded`` (what every keyed request
  does now), with an empty failure table, then with ``--attack-rows`` failures of 1,000
  addresses and 10,000 usernames within the window (an attack in progress);
- naive, under the attack: the same check reading the table without its ``(subject, at)``
  index (SQLite ``NOT INDEXED``; PostgreSQL with index scans disabled).

Prints the markdown section of docs/benchmarks.md.
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

from sqlalchemy import Engine, delete, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _store import bench_store  # noqa: E402
from ecoute.store.api_keys import authenticate, create_key  # noqa: E402
from ecoute.store.authorities import ensure_authority  # noqa: E402
from ecoute.store.db import (  # noqa: E402
    make_session_factory,
    make_writer_factory,
    session_scope,
)
from ecoute.store.models import SigninFailure  # noqa: E402
from ecoute.store.signin_attempts import (  # noqa: E402
    SigninLimits,
    check_signin,
    signin_succeeded,
    subject_hash,
    subjects_of,
)

LIMITS = SigninLimits(per_user=5, per_address=20, window=timedelta(minutes=15),
                      lockout=timedelta(minutes=15))
ADDRESS = "203.0.113.5"


def _store(engine: Engine) -> str:
    with session_scope(make_session_factory(engine)) as session:
        authority = ensure_authority(session, "bench")
        _key, token = create_key(session, role="viewer", authority=authority)
    return token


def _attack(engine: Engine, rows: int, now: datetime) -> None:
    rng = random.Random(5)
    subjects = [subject_hash("address", f"198.51.{i // 250}.{i % 250}") for i in range(1000)] \
        + [subject_hash("user", f"user{i}") for i in range(10_000)]
    with engine.begin() as connection:
        connection.execute(delete(SigninFailure))
        for start in range(0, rows, 10_000):
            connection.execute(insert(SigninFailure), [
                {"subject": rng.choice(subjects),
                 "at": now - timedelta(seconds=rng.uniform(0, 14 * 60))}
                for _ in range(min(10_000, rows - start))])
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE signin_failure"))


def _naive_check(session: object, now: datetime) -> None:
    """The check's query without the index that serves it."""
    subjects = list(subjects_of(LIMITS, username=None, address=ADDRESS))
    bind = session.get_bind()  # type: ignore[attr-defined]
    table = "signin_failure NOT INDEXED" if bind.dialect.name == "sqlite" else "signin_failure"
    if bind.dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_indexscan = off"))  # type: ignore[attr-defined]
        session.execute(text("SET LOCAL enable_bitmapscan = off"))  # type: ignore[attr-defined]
    session.execute(  # type: ignore[attr-defined]
        text(f"SELECT subject, at FROM {table} WHERE subject = :s AND at > :since"),
        {"s": subjects[0], "since": now - LIMITS.memory}).all()


def _timed(runs: dict[str, Callable[[], None]], n: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(n):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) * 1000)
    return times


def measure(engine: Engine, requests: int, attack_rows: int) -> list[str]:
    token = _store(engine)
    writer = make_writer_factory(engine)
    now = datetime.now(timezone.utc)
    subjects = subjects_of(LIMITS, username=None, address=ADDRESS)

    def before() -> None:
        with session_scope(writer) as session:
            assert authenticate(session, token) is not None

    def ours() -> None:
        with session_scope(writer) as session:
            check = check_signin(session, LIMITS, subjects, now)
            assert authenticate(session, token) is not None
            signin_succeeded(session, check)

    def naive() -> None:
        with session_scope(writer) as session:
            _naive_check(session, now)
            assert authenticate(session, token) is not None

    rest = _timed({"before": before, "ours": ours}, requests)
    started = time.perf_counter()
    _attack(engine, attack_rows, now)
    build = time.perf_counter() - started
    attacked = _timed({"before": before, "ours": ours, "naive": naive},
                      max(20, requests // 4))

    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1]

    def cell(values: list[float]) -> str:
        return f"{p(values, 50):.2f} / {p(values, 95):.2f}"

    def cost(ours: list[float], before: list[float]) -> str:
        return f"+{p(ours, 50) - p(before, 50):.2f} ms ({p(ours, 50) / p(before, 50):.1f}×)"

    name = "SQLite" if engine.dialect.name == "sqlite" else "PostgreSQL"
    return [f"| {name} | {cell(rest['before'])} | {cell(rest['ours'])} | "
            f"{cost(rest['ours'], rest['before'])} | {attack_rows:,} | "
            f"{cell(attacked['before'])} | {cell(attacked['ours'])} | "
            f"{cost(attacked['ours'], attacked['before'])} | {cell(attacked['naive'])} | "
            f"{p(attacked['naive'], 50) / p(attacked['ours'], 50):.1f}× | {build:.0f} s |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--attack-rows", type=int, default=200_000)
    parser.add_argument("--pg-url")
    args = parser.parse_args()
    rows = ["| database | before p50 / p95 ms | ours p50 / p95 ms | cost per request | "
            "failure rows (attack) | before, attack | ours, attack | cost, attack | "
            "naive (no index), attack | naive / ours | build |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    with bench_store() as engine:
        rows += measure(engine, args.requests, args.attack_rows)
    if args.pg_url:
        with bench_store(args.pg_url) as engine:
            rows += measure(engine, args.requests, args.attack_rows)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
