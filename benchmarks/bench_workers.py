"""Classification throughput of 1 and 2 ``ecoute worker`` processes on PostgreSQL.

    python benchmarks/bench_workers.py --url postgresql://postgres@127.0.0.1:5432/test \
        --model-dir /path/to/model [--items 4000] [--default-model]

Each worker process uses one torch thread. Throughput is measured between the first and the
last tagging written (model loading excluded); double work is checked afterwards (one tagging
per item and model version, rollups equal to the number of classified items). Prints the
markdown section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete, func, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _store import bench_store, store_url  # noqa: E402
from ecoute.collectors.service import add_source, run_source  # noqa: E402
from ecoute.config.settings import Settings  # noqa: E402
from ecoute.store.db import make_session_factory, session_scope  # noqa: E402
from ecoute.domain import OVERALL  # noqa: E402
from ecoute.store.models import DailyRollup, DeterminantTag, Item, Tagging  # noqa: E402
from tests.helpers.seed import write_feed  # noqa: E402

PHRASES = ["friendly staff and quick answer", "forty minutes of waiting at the desk",
           "the office is on main street", "accueil minable et personnel désagréable",
           "très bien merci pour la réponse rapide"]


def run_workers(url: str, env: dict[str, str], count: int, factory, items: int) -> dict:  # type: ignore[no-untyped-def]
    with session_scope(factory) as session:
        session.execute(delete(DeterminantTag))
        session.execute(delete(Tagging))
        session.execute(delete(DailyRollup))
        session.execute(update(Item).values(classified_version=None))
    procs = [subprocess.Popen([sys.executable, "-m", "ecoute", "worker", "--no-collect"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(count)]
    try:
        while True:
            with session_scope(factory) as session:
                done = session.scalar(select(func.count()).select_from(Item)
                                      .where(Item.classified_version.is_not(None)))
            if done == items:
                break
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a worker exited early; run it by hand to see why")
            time.sleep(0.5)
    finally:
        for p in procs:
            p.terminate()
            p.wait(60)
    with session_scope(factory) as session:
        first, last = session.execute(select(func.min(Tagging.created_at),
                                             func.max(Tagging.created_at))).one()
        taggings = session.scalar(select(func.count()).select_from(Tagging))
        distinct = session.scalar(select(func.count(func.distinct(Tagging.item_id))))
        rolled = session.scalar(select(func.sum(DailyRollup.pos + DailyRollup.neg
                                                + DailyRollup.neu))
                                .where(DailyRollup.determinant == OVERALL))
    seconds = max((last - first).total_seconds(), 1e-6)
    return {"workers": count, "seconds": seconds, "rate": items / seconds,
            "double": taggings - distinct, "rollup_ok": rolled == items}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("ECOUTE_TEST_POSTGRES_URL",
                                                        "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="model folder (default: the configured/bundled model)")
    parser.add_argument("--items", type=int, default=4000)
    parser.add_argument("--label", default="tiny test model")
    args = parser.parse_args()
    with bench_store(args.url) as engine:
        url = store_url(engine)
        factory = make_session_factory(engine)
        with tempfile.TemporaryDirectory() as tmp:
            # The feed is written outside the folders ecoute may read by default.
            settings = Settings(database_url=url, collect_batch_size=1000,
                                file_roots=[Path(tmp)])
            feed = write_feed(Path(tmp) / "f.rss", [f"{PHRASES[n % 5]} {n}"
                                                    for n in range(args.items)])
            with session_scope(factory) as session:
                sid = add_source(session, authority="demo", name="bench", kind="rss",
                                 options={"url": str(feed)}, schedule="manual").id
            report = run_source(factory, settings, sid)
        if report.new != args.items:  # the workers would wait for items that never came
            raise SystemExit(f"the feed gave {report.new} items: {report.error}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECOUTE_")}
        env.update(ECOUTE_DATABASE_URL=url, ECOUTE_TORCH_THREADS="1",
                   ECOUTE_WORKER_POLL_SECONDS="0.2")
        if args.model_dir:
            env["ECOUTE_MODEL_DIR"] = str(args.model_dir)
        one = run_workers(url, env, 1, factory, args.items)
        two = run_workers(url, env, 2, factory, args.items)
    ratio = two["rate"] / one["rate"]
    print(f"| {args.label} | {args.items:,} | {one['rate']:.0f} | {two['rate']:.0f} | "
          f"{ratio:.2f} | {one['double'] + two['double']} | "
          f"{'yes' if one['rollup_ok'] and two['rollup_ok'] else 'NO'} |")


if __name__ == "__main__":
    main()
