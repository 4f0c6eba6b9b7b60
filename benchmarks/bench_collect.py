"""Collection throughput of the rss collector through the runner into SQLite, against feedparser.

    python benchmarks/bench_collect.py [--entries 50000] [--markdown]

Three workloads, measured in one run: the whole feedparser sample set (about 2,100 small
files) as one source per file and as one source watching the folder, and one generated feed
of 50,000 entries. For each, the time feedparser
alone takes to parse the same files is the reference: the ratio is feedparser's time over
ours for the same entries (1.0 = as fast as parsing alone; the goal is at least 0.5).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import feedparser
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecoute.collectors.service import add_source, run_source  # noqa: E402
from ecoute.config.settings import Settings  # noqa: E402
from ecoute.store.db import make_engine, make_session_factory, session_scope, upgrade  # noqa: E402
from ecoute.store.models import Item  # noqa: E402

SAMPLES = ROOT.parent / "shared" / "data" / "feeds" / "feedparser"


def generated_feed(path: Path, entries: int) -> Path:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = [
        f"<item><guid>gen-{n}</guid><title>Avis {n}</title>"
        f"<link>https://example.org/avis/{n}</link>"
        f"<description>&lt;p&gt;Accueil numéro {n} : agent &lt;b&gt;aimable&lt;/b&gt;, "
        f"attente de {n % 60} minutes au guichet.&lt;/p&gt;</description>"
        f"<pubDate>{format_datetime(start + timedelta(minutes=n))}</pubDate></item>"
        for n in range(entries)
    ]
    path.write_text('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                    "<title>Avis</title>" + "".join(items) + "</channel></rss>",
                    encoding="utf-8")
    return path


def feedparser_alone(files: list[Path]) -> tuple[float, int]:
    started = time.perf_counter()
    entries = sum(len(feedparser.parse(f.read_bytes()).entries) for f in files)
    return time.perf_counter() - started, entries


def through_runner(files: list[Path], workdir: Path, name: str,
                   folder: Path | None = None) -> tuple[float, int]:
    """One source per file, or one source watching ``folder`` (which holds the files)."""
    engine = make_engine(f"sqlite:///{workdir / f'{name}.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    settings = Settings(database_url=str(engine.url), cache_dir=workdir / "cache")
    with session_scope(factory) as session:
        urls = [str(folder)] if folder is not None else [str(f) for f in files]
        ids = [add_source(session, authority="bench", name=f"{name}-{i}", kind="rss",
                          options={"url": url, "pattern": "**/*"}).id
               for i, url in enumerate(urls)]
    started = time.perf_counter()
    for source_id in ids:
        run_source(factory, settings, source_id)
    elapsed = time.perf_counter() - started
    with session_scope(factory) as session:
        stored = int(session.scalar(select(func.count()).select_from(Item)) or 0)
    engine.dispose()
    return elapsed, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        samples = sorted(p for p in SAMPLES.rglob("*") if p.is_file())
        workloads: dict[str, tuple[list[Path], Path | None]] = {
            "feedparser samples, one source per file": (samples, None),
            "feedparser samples, one watched folder": (samples, SAMPLES),
            f"generated feed ({args.entries:,} entries)":
                ([generated_feed(workdir / "big.rss", args.entries)], None),
        }
        for label, (files, folder) in workloads.items():
            fp_time, entries = feedparser_alone(files)
            our_time, stored = through_runner(files, workdir, f"w{len(rows)}", folder)
            rows.append((label, len(files), entries, stored, entries / fp_time,
                         entries / our_time, fp_time / our_time))
    header = ("workload", "files", "entries", "items stored", "feedparser entries/s",
              "runner entries/s", "ratio")
    lines = [header] + [(r[0], f"{r[1]:,}", f"{r[2]:,}", f"{r[3]:,}", f"{r[4]:,.0f}",
                         f"{r[5]:,.0f}", f"{r[6]:.2f}") for r in rows]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines[1:]:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        for line in lines:
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
