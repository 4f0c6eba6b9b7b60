"""The write path: a large complaint register through the runner, and pushed records through
``POST /api/v1/ingest``, each against the cost of writing the same rows, in one run.

- Import: a generated register imported into SQLite in a child process (peak RSS read with
  ``resource.getrusage``), per row against the limit, the same rows as stored (already
  mapped, redacted, hashed) inserted into a fresh ``item`` table, with its indexes, by raw
  ``sqlite3`` ``executemany`` in batches of ``collect_batch_size``, a commit per batch.
- Ingest: records pushed to the API in requests of ``--ingest-batch`` records (in process,
  no network) against a SQLAlchemy Core ``executemany`` of the same rows as stored, a
  commit per request's worth.

    python benchmarks/bench_complaint_log.py [--size-mb 1024] [--limit-mb 250] [--markdown]

Goals: import ≤ 200 µs per row and ≥ 0.25× the raw limit, peak RSS ≤ 250 MB; /ingest
≥ 0.5× the Core executemany.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("attente guichet accueil agent horaires dossier courrier réponse délai propreté "
         "stationnement voirie éclairage bruit piscine bibliothèque cantine facture état "
         "civil urbanisme rendez-vous téléphone personne aimable désagréable trop long").split()
BATCH = 1000


def generate(path: Path, size_mb: int) -> int:
    rng = random.Random(7)
    target, rows = size_mb * 1024 * 1024, 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["Numéro", "Date de réception", "Canal", "Objet", "Réclamation",
                         "Catégorie", "Service", "Statut", "Date de réponse"])
        while fh.tell() < target:
            for _ in range(1000):
                rows += 1
                text = " ".join(rng.choices(WORDS, k=rng.randint(20, 120)))
                if rows % 7 == 0:
                    text = text.replace(" ", "\n", 2)  # quoted newlines
                day = 1 + rows % 28
                writer.writerow([f"R-{rows}", f"{day:02d}/03/2024 10:00", "courriel",
                                 " ".join(rng.choices(WORDS, k=3)), text, "Délais",
                                 "État civil", "clos", f"{day:02d}/04/2024"])
    return rows


def naive_pass(path: Path) -> tuple[int, float]:
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        rows = sum(1 for _ in csv.reader(fh, delimiter=";")) - 1
    return rows, time.perf_counter() - start


def _settings(db: Path, **update: Any) -> Any:
    from ecoute.config.settings import Settings

    # A gigabyte register holds more rows than one import takes by default.
    return Settings(database_url=f"sqlite:///{db}", collect_batch_size=BATCH,
                    data_dir=db.parent / "data", file_roots=[db.parent],
                    import_max_rows=100_000_000, collect_max_seconds=86_400, **update)


def import_child(path: str, db: str) -> None:
    """Runs in a fresh process: migrate, add the source, import, print the measures."""
    from ecoute.collectors.service import add_source, run_source
    from ecoute.store.db import make_engine, make_session_factory, session_scope, upgrade

    settings = _settings(Path(db))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        source_id = add_source(session, authority="bench", name="register",
                               kind="complaint_log", options={"path": path}).id
    start, cpu = time.perf_counter(), time.process_time()
    report = run_source(factory, settings, source_id)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"new": report.new, "quarantined": report.quarantined,
                      "status": str(report.status), "error": report.error,
                      "seconds": elapsed, "cpu": cpu, "peak_rss_mb": peak_kb / 1024}))


def _fresh_item_table(db: Path, stored: Path) -> None:
    """A migrated database holding the source, sites and departments of the stored rows."""
    from ecoute.collectors.service import add_source
    from ecoute.store.db import make_engine, make_session_factory, session_scope, upgrade

    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        add_source(session, authority="bench", name="register", kind="complaint_log",
                   options={"path": str(db.parent)})
    engine.dispose()
    conn = sqlite3.connect(db)
    conn.execute("ATTACH DATABASE ? AS stored", (str(stored),))
    for table in ("site", "department"):
        conn.execute(f"INSERT INTO {table} SELECT * FROM stored.{table}")
    conn.commit()
    conn.close()


def _stored_rows(db: Path) -> Iterator[tuple[list[str], list[tuple[Any, ...]]]]:
    """The item rows as stored, batch by batch, as sqlite3 returns them."""
    conn = sqlite3.connect(db)
    cursor = conn.execute("SELECT * FROM item ORDER BY id")
    columns = [c[0] for c in cursor.description if c[0] != "id"]
    cursor = conn.execute(f"SELECT {', '.join(columns)} FROM item ORDER BY id")
    while rows := cursor.fetchmany(BATCH):
        yield columns, rows
    conn.close()


def raw_limit(stored: Path, fresh: Path) -> tuple[float, float]:
    """Seconds (wall, CPU) to insert the stored rows again with raw sqlite3, a commit per
    batch."""
    _fresh_item_table(fresh, stored)
    conn = sqlite3.connect(fresh, isolation_level=None)
    # As ecoute's engine sets them (store.db.make_engine).
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    seconds = cpu = 0.0
    for columns, rows in _stored_rows(stored):
        sql = f"INSERT INTO item ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        start, started_cpu = time.perf_counter(), time.process_time()
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
        seconds += time.perf_counter() - start
        cpu += time.process_time() - started_cpu
    conn.close()
    return seconds, cpu


def push_records(count: int) -> list[dict[str, Any]]:
    rng = random.Random(11)
    start = datetime(2024, 3, 1, 9, tzinfo=timezone.utc)
    return [{"external_id": f"P-{n}", "text": " ".join(rng.choices(WORDS, k=rng.randint(20, 120))),
             "title": " ".join(rng.choices(WORDS, k=3)), "author": f"usager {n % 997}",
             "published_at": (start + timedelta(minutes=n)).isoformat(), "channel": "email",
             "rating_value": rng.randint(1, 5), "rating_scale": "1-5"}
            for n in range(count)]


def ingest_child(tmp: str, count: int, per_request: int) -> None:
    """Runs in a fresh process: /ingest in process, then Core executemany of its rows."""
    from fastapi.testclient import TestClient
    from sqlalchemy import insert

    from ecoute.api.app import create_app
    from ecoute.store.api_keys import create_key
    from ecoute.store.authorities import ensure_authority
    from ecoute.store.db import make_engine, make_session_factory, session_scope, upgrade
    from ecoute.store.models import Item

    db = Path(tmp) / "ingest.db"
    settings = _settings(db)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        token = create_key(session, role="ingest", authority=ensure_authority(session, "bench"))[1]
    records = push_records(count)
    bodies = [json.dumps(records[n:n + per_request]).encode()
              for n in range(0, count, per_request)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with TestClient(create_app(settings, engine)) as client:
        client.get("/api/v1/health")
        start, cpu = time.perf_counter(), time.process_time()
        for body in bodies:
            answer = client.post("/api/v1/ingest", content=body, headers=headers)
            assert answer.status_code == 200 and answer.json()["run"]["new"] > 0, answer.text
        ingest_seconds, ingest_cpu = time.perf_counter() - start, time.process_time() - cpu
    engine.dispose()

    fresh = Path(tmp) / "core.db"
    _fresh_item_table(fresh, db)
    core = make_engine(f"sqlite:///{fresh}")
    core_seconds = core_cpu = 0.0
    stored = 0
    for columns, rows in _stored_rows(db):
        mapped = [_python_values(dict(zip(columns, row, strict=True))) for row in rows]
        start, cpu = time.perf_counter(), time.process_time()
        with core.begin() as conn:
            conn.execute(insert(Item.__table__), mapped)
        core_seconds += time.perf_counter() - start
        core_cpu += time.process_time() - cpu
        stored += len(rows)
    core.dispose()
    print(json.dumps({"records": count, "stored": stored, "ingest_seconds": ingest_seconds,
                      "ingest_cpu": ingest_cpu, "core_seconds": core_seconds,
                      "core_cpu": core_cpu}))


def _python_values(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the runner hands it to the database (datetimes, JSON as objects)."""
    for name in ("published_at", "collected_at", "sort_at", "received_at", "answered_at",
                 "closed_at"):
        if row.get(name) is not None:
            row[name] = datetime.fromisoformat(row[name]).replace(tzinfo=timezone.utc)
    row["extra"] = json.loads(row["extra"])
    row["source_id"], row["authority_id"] = 1, 1
    return row


def _run(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--limit-mb", type=float, default=250.0)
    parser.add_argument("--ingest-records", type=int, default=50_000)
    parser.add_argument("--ingest-batch", type=int, default=1000)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown section")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--ingest-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import_child(*args.child)
        return
    if args.ingest_child:
        ingest_child(args.ingest_child, args.ingest_records, args.ingest_batch)
        return
    with tempfile.TemporaryDirectory() as tmp:
        register, db = Path(tmp) / "register.csv", Path(tmp) / "bench.db"
        rows = generate(register, args.size_mb)
        size = register.stat().st_size
        naive_rows, naive_seconds = naive_pass(register)
        result = _run("--child", str(register), str(db))
        limit_seconds, limit_cpu = raw_limit(db, Path(tmp) / "limit.db")
        pushed = _run("--ingest-child", tmp, "--ingest-records", str(args.ingest_records),
                      "--ingest-batch", str(args.ingest_batch))
    per_row = result["seconds"] / rows * 1e6
    limit_per_row = limit_seconds / rows * 1e6
    import_ratio = limit_seconds / result["seconds"]
    ingest_ratio = pushed["core_seconds"] / pushed["ingest_seconds"]
    if result["error"]:
        print(f"the import failed: {result['error']}", file=sys.stderr)
    ok = (result["new"] == rows == naive_rows and result["peak_rss_mb"] <= args.limit_mb
          and per_row <= 200 and import_ratio >= 0.25
          and pushed["stored"] == pushed["records"] and ingest_ratio >= 0.5)
    lines = [
        f"- file: {size / 1024 / 1024:.0f} MB, {rows:,} complaints (every 7th with quoted "
        "newlines), `;`-separated UTF-8",
        f"- imported through the runner into SQLite: {result['new']:,} new, "
        f"{result['quarantined']} quarantined, status {result['status']}",
        f"- import: {result['seconds']:.1f} s, {rows / result['seconds']:,.0f} rows/s, "
        f"{per_row:.0f} µs per row (goal ≤ 200); CPU {result['cpu'] / rows * 1e6:.0f} µs per row",
        f"- limit, the same stored rows inserted by raw sqlite3 executemany into the item "
        f"table with its indexes (batches of {BATCH}, a commit each): {limit_seconds:.1f} s, "
        f"{limit_per_row:.0f} µs per row (CPU {limit_cpu / rows * 1e6:.0f}); import / limit "
        f"speed {import_ratio:.2f}× (goal ≥ 0.25), in CPU time "
        f"{limit_cpu / result['cpu']:.2f}×",
        f"- peak RSS of the importing process: {result['peak_rss_mb']:.0f} MB; limit "
        f"{args.limit_mb:.0f} MB; ratio RSS/limit {result['peak_rss_mb'] / args.limit_mb:.2f}",
        f"- bare `csv.reader` pass: {naive_seconds:.1f} s, {naive_rows / naive_seconds:,.0f} "
        f"rows/s (the import is {naive_seconds / result['seconds']:.3f}× its speed)",
        f"- `/ingest`: {pushed['records']:,} records in requests of {args.ingest_batch}: "
        f"{pushed['ingest_seconds']:.1f} s, {pushed['records'] / pushed['ingest_seconds']:,.0f} "
        f"records/s; Core executemany of the same stored rows: {pushed['core_seconds']:.1f} s; "
        f"ratio {ingest_ratio:.2f}× (goal ≥ 0.5), in CPU time "
        f"{pushed['core_cpu'] / pushed['ingest_cpu']:.2f}×",
        f"- verdict: {'PASS' if ok else 'FAIL'}",
    ]
    if args.markdown:
        print("## Complaint log import and ingest\n\n`python benchmarks/bench_complaint_log.py "
              f"--size-mb {args.size_mb}`\n")
    print("\n".join(lines))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
