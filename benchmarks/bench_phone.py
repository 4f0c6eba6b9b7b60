"""What judging a phone queue costs as each interval arrives, against replaying its history.

    python benchmarks/bench_phone.py [--days 7] [--queues 3]

Generated quarter-hour intervals (24 hours a day, a busy morning and afternoon, overloads
some days) for ``--queues`` queues over ``--days`` days are written one interval of each queue
at a time into a temporary SQLite file, as a phone system pushes them; after each, in one
transaction per queue:

* ours: ``evaluate_queue``, which reads the window and the new intervals and carries the
  hysteresis in the stored state;
* the naive way: the detection replayed over every interval stored for the queue (what a
  detector without stored state must do to know whether an overload is still on, its
  recovery time included), read from the store and judged;
* the limit: the one query ours cannot avoid (the queue's intervals of the window).

The runs take turns interval by interval, so that the load of a shared machine falls on all
alike. Both ways must find the same overloads (checked). Prints the markdown of
docs/benchmarks.md's section.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def intervals(days: int, queue: str, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2026, 3, 2, tzinfo=timezone.utc)
    rows = []
    for k in range(days * 96):
        at = start + timedelta(minutes=15 * k)
        hour = at.hour + at.minute / 60
        busy = 8 <= hour < 12 or 13.5 <= hour < 17.5
        offered = rng.randint(12, 30) if busy else rng.randint(0, 3)
        bad_day = at.day % 3 == 0 and 9 <= hour < 11
        share = rng.uniform(0.15, 0.35) if bad_day else rng.uniform(0.0, 0.12)
        abandoned = min(offered, round(offered * share))
        rows.append({"queue": queue, "interval_start": at, "interval_minutes": 15,
                     "offered": offered, "answered": offered - abandoned,
                     "abandoned": abandoned, "avg_wait_seconds": rng.uniform(20, 200 if
                                                                              bad_day else 90),
                     "service_level": None, "max_wait_seconds": None,
                     "service_level_seconds": None, "agents": None, "waiting": None})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--queues", type=int, default=3)
    args = parser.parse_args()

    from ecoute.assessment.phone import Thresholds, detect, evaluate_queue
    from ecoute.config.settings import Settings
    from ecoute.store.authorities import ensure_authority
    from ecoute.store.db import make_engine, make_session_factory, session_scope, upgrade
    from ecoute.store.phone import queue_intervals, write_pushed_intervals

    folder = Path(tempfile.mkdtemp(prefix="ecoute-bench-phone-"))
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    t = Thresholds.of(Settings())
    window = timedelta(minutes=t.window_minutes)
    with session_scope(factory) as session:
        authority_id = ensure_authority(session, "bench").id
    queues = [f"File {n + 1}" for n in range(args.queues)]
    streams = [intervals(args.days, q, n) for n, q in enumerate(queues)]
    timing = {"ours": 0.0, "naive": 0.0, "limit": 0.0}
    naive_starts: dict[str, list[datetime]] = {q: [] for q in queues}
    first = streams[0][0]["interval_start"]
    count = 0
    for step in range(len(streams[0])):
        for queue, stream in zip(queues, streams, strict=True):
            row = stream[step]
            now = row["interval_start"] + timedelta(minutes=15)
            with session_scope(factory) as session:
                write_pushed_intervals(session, authority_id, "bench", [row])
            began = time.perf_counter()
            with session_scope(factory) as session:
                evaluate_queue(session, authority_id, queue, t, now)
            timing["ours"] += time.perf_counter() - began
            began = time.perf_counter()
            with session_scope(factory) as session:
                history = queue_intervals(session, authority_id, queue, first)
            _, events = detect(history, t)
            naive_starts[queue] = [e.at for e in events if e.kind == "start"]
            timing["naive"] += time.perf_counter() - began
            began = time.perf_counter()
            with session_scope(factory) as session:
                queue_intervals(session, authority_id, queue, now - window - window)
            timing["limit"] += time.perf_counter() - began
            count += 1
    from sqlalchemy import select

    from ecoute.store.models import PhoneOverload

    with session_scope(factory) as session:
        ours = {q: [o.started_at for o in session.scalars(
            select(PhoneOverload).where(PhoneOverload.queue == q)
            .order_by(PhoneOverload.started_at))] for q in queues}
    assert ours == naive_starts, "the two ways found different overloads"
    overloads = sum(len(v) for v in ours.values())
    per = {k: v / count * 1e6 for k, v in timing.items()}
    print(f"`python benchmarks/bench_phone.py --days {args.days} --queues {args.queues}` "
          f"(SQLite, {count} quarter-hour intervals pushed one at a time, {overloads} "
          "overloads found by both ways):\n")
    print("| way | total | per interval |")
    print("|---|---|---|")
    labels = {"ours": "ours: `evaluate_queue` (window + stored state)",
              "naive": "naive: replay of the queue's whole history",
              "limit": "limit: the window's query alone"}
    for key, label in labels.items():
        print(f"| {label} | {timing[key]:.2f} s | {per[key]:.0f} µs |")
    print()
    print(f"- ours / naive: {timing['ours'] / timing['naive']:.3f}× "
          f"(naive is {timing['naive'] / timing['ours']:.1f}× slower, and grows with the "
          "history)")
    print(f"- ours / limit: {timing['ours'] / timing['limit']:.2f}×")


if __name__ == "__main__":
    main()
