"""Exports stream: 100,000 items go out as CSV and XLSX in bounded memory, every row once.

The 100,000-item runs take minutes on a small machine (``pytest -m slow`` runs them, as CI
does); the default run exports 10,000 the same way."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.exports import ITEM_HEADER, csv_stream, item_rows, xlsx_stream
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.item_listing import ItemFilters
from ecoute.store.items import insert_items
from ecoute.store.models import Source, utcnow

SIZES = [10_000, pytest.param(100_000, marks=pytest.mark.slow)]
#: The bound the exports must stay under, whatever the number of items.
PEAK_LIMIT = 50 * 2**20
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
TEXT = "Attente trop longue au guichet de la mairie annexe, personnel pourtant aimable. " * 3


def _fill(factory: sessionmaker[Session], n: int) -> ItemFilters:
    with session_scope(factory) as session:
        authority = ensure_authority(session, "big")
        source = Source(authority_id=authority.id, kind="push", name="p", options={},
                        schedule="manual")
        session.add(source)
        session.flush()
        for start in range(0, n, 5000):
            insert_items(session, [dict(
                authority_id=authority.id, source_id=source.id, external_id=f"e{i}",
                content_hash=f"{i:064d}", channel="review", text=f"{i} {TEXT}",
                published_at=T0 + timedelta(minutes=i) if i % 10 else None,
                collected_at=utcnow(), extra={}) for i in range(start, min(n, start + 5000))])
        return ItemFilters(authority_id=authority.id)




@pytest.mark.parametrize("n", SIZES)
def test_csv_export_streams_in_bounded_memory(factory: sessionmaker[Session], n: int) -> None:
    filters = _fill(factory, n)
    tracemalloc.start()
    try:
        rows, sent, id_sum = 0, 0, 0
        for chunk in csv_stream(ITEM_HEADER, item_rows(factory, filters)):
            sent += len(chunk)
            # Each chunk is whole rows: read back as CSV, not counted by lines.
            for row in csv.reader(io.StringIO(chunk.decode("utf-8-sig"))):
                if row[0] != "id":
                    rows += 1
                    id_sum += int(row[0])
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Ids are 1..N: the count and their sum say each item went out once.
    assert rows == n and id_sum == n * (n + 1) // 2
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.1f} MB"
    if n >= 100_000:
        # It never held the file: the peak is a small part of what went out.
        assert peak < sent / 4, (peak, sent)


@pytest.mark.parametrize("n", SIZES)
def test_xlsx_export_streams_in_bounded_memory(
        factory: sessionmaker[Session], tmp_path: Path, request: pytest.FixtureRequest,
        n: int) -> None:
    if "postgresql" in request.node.name:
        pytest.skip("the workbook is written the same way whatever the database: SQLite is "
                    "enough (the CSV test reads from both)")
    filters = _fill(factory, n)
    tracemalloc.start()
    try:
        path = tmp_path / "items.xlsx"
        with open(path, "wb") as out:
            for chunk in xlsx_stream([("items", ITEM_HEADER, item_rows(factory, filters))]):
                out.write(chunk)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.1f} MB"
    book = load_workbook(path, read_only=True)
    try:
        ids = [r[0] for r in book["items"].iter_rows(min_row=2, max_col=1, values_only=True)]
    finally:
        book.close()
    assert len(ids) == n and sum(ids) == n * (n + 1) // 2
