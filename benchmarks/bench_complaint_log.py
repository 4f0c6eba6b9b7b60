"""Import a large generated complaint register through the runner into SQLite.

Checks that memory stays flat: the import runs in a child process whose peak RSS is read with
``resource.getrusage`` and compared with the limit; the rows/s are compared with a bare
``csv.reader`` pass over the same file.

    python benchmarks/bench_complaint_log.py [--size-mb 1024] [--limit-mb 250] [--markdown]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("attente guichet accueil agent horaires dossier courrier réponse délai propreté "
         "stationnement voirie éclairage bruit piscine bibliothèque cantine facture état "
         "civil urbanisme rendez-vous téléphone personne aimable désagréable trop long").split()


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


def child(path: str, db: str) -> None:
    """Runs in a fresh process: migrate, add the source, import, print the measures."""
    from ecoute.collectors.service import add_source, run_source
    from ecoute.config.settings import Settings
    from ecoute.store.db import make_engine, make_session_factory, session_scope, upgrade

    settings = Settings(database_url=f"sqlite:///{db}", collect_batch_size=1000)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        source_id = add_source(session, authority="bench", name="register",
                               kind="complaint_log", options={"path": path}).id
    start = time.perf_counter()
    report = run_source(factory, settings, source_id)
    elapsed = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"new": report.new, "quarantined": report.quarantined,
                      "status": str(report.status), "error": report.error,
                      "seconds": elapsed, "peak_rss_mb": peak_kb / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--limit-mb", type=float, default=250.0)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown section")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        register, db = Path(tmp) / "register.csv", Path(tmp) / "bench.db"
        rows = generate(register, args.size_mb)
        size = register.stat().st_size
        naive_rows, naive_seconds = naive_pass(register)
        out = subprocess.run([sys.executable, __file__, "--child", str(register), str(db)],
                             capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    ok = result["new"] == rows == naive_rows and result["peak_rss_mb"] < args.limit_mb
    lines = [
        f"- file: {size / 1024 / 1024:.0f} MB, {rows} complaints (every 7th with quoted "
        "newlines), `;`-separated UTF-8",
        f"- imported through the runner into SQLite: {result['new']} new, "
        f"{result['quarantined']} quarantined, status {result['status']}",
        f"- peak RSS of the importing process: {result['peak_rss_mb']:.0f} MB; limit "
        f"{args.limit_mb:.0f} MB; ratio RSS/limit {result['peak_rss_mb'] / args.limit_mb:.2f}",
        f"- import: {result['seconds']:.0f} s, {rows / result['seconds']:.0f} rows/s; naive "
        f"`csv.reader` pass: {naive_seconds:.1f} s, {naive_rows / naive_seconds:.0f} rows/s "
        f"(import is {naive_seconds / result['seconds']:.3f}× its speed)",
        f"- verdict: {'PASS' if ok else 'FAIL'}",
    ]
    if args.markdown:
        print("## Complaint log import\n\n`python benchmarks/bench_complaint_log.py "
              f"--size-mb {args.size_mb}`\n")
    print("\n".join(lines))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
