"""Seconds to collect one very long feed entry through the runner (fetch from a file, parse,
reduce to text, cut at ``text_max_chars``, redact, hash, store in SQLite), per size, against a
baseline that only reads the file and takes ``len()`` of its text.

    python benchmarks/bench_large_entries.py [--sizes-mb 1 10 30]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ecoute.collectors.service import add_source, run_source  # noqa: E402
from ecoute.config.settings import Settings  # noqa: E402
from ecoute.store.db import make_engine, make_session_factory, session_scope, upgrade  # noqa: E402
from tests.helpers.large_entries import adversarial_text, feed_with_entry  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[1, 10, 30])
    args = parser.parse_args()
    print("| entry | runner s | len() baseline s | ratio | status |")
    print("|---|---|---|---|---|")
    for size_mb in args.sizes_mb:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            feed = folder / "feed.xml"
            feed.write_bytes(feed_with_entry(adversarial_text(size_mb * 1_000_000)))
            settings = Settings(database_url=f"sqlite:///{folder / 'bench.db'}",
                                cache_dir=folder / "cache", file_roots=[folder])
            engine = make_engine(settings.database_url)
            upgrade(engine)
            factory = make_session_factory(engine)
            with session_scope(factory) as session:
                source_id = add_source(session, authority="demo", name="long", kind="rss",
                                       options={"url": str(feed)}).id
            started = time.perf_counter()
            report = run_source(factory, settings, source_id)
            runner = time.perf_counter() - started
            started = time.perf_counter()
            length = len(feed.read_bytes().decode("utf-8"))
            baseline = time.perf_counter() - started
            assert length
            engine.dispose()
        print(f"| {size_mb} MB | {runner:.2f} | {baseline:.3f} | {runner / baseline:,.0f}x | "
              f"{report.status}, {report.new} new |")


if __name__ == "__main__":
    main()
