"""A 1 MB and a 30 MB entry, from a feed, a push and a CSV row, are collected in seconds
through the real runner, stored cut at ``text_max_chars`` with the cut recorded."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.models import Item, Quarantine, RunStatus
from tests.helpers.api import admin_headers, api_client
from tests.helpers.large_entries import adversarial_text, csv_with_row, feed_with_entry, push_body
from tests.helpers.servers import FileServer

MB = 1_000_000
#: Generous bounds for 2 shared cores; before the prefix reading a 30 MB entry took minutes.
BOUND_SECONDS = {1 * MB: 10.0, 30 * MB: 20.0}
SIZES = [1 * MB, 30 * MB]


def only_item(factory: sessionmaker[Session]) -> Item:
    with session_scope(factory) as session:
        items = list(session.scalars(select(Item).where(Item.external_id == "big")))
        assert len(items) == 1
        session.expunge(items[0])
        return items[0]


def assert_cut(item: Item, settings: Settings, size: int) -> None:
    """Stored cut at the maximum, the cut recorded, personal data masked."""
    assert item.text.startswith("Accueil très aimable à la mairie, écrivez à [EMAIL].")
    assert settings.text_max_chars - 100 < len(item.text) <= settings.text_max_chars
    assert settings.text_max_chars < item.extra["truncated"]["text"] <= size


@pytest.mark.parametrize("size", SIZES, ids=["1MB", "30MB"])
def test_a_huge_feed_entry_is_collected_in_seconds(
    factory: sessionmaker[Session], settings: Settings, file_server: FileServer, size: int
) -> None:
    (file_server.root / "feed.xml").write_bytes(feed_with_entry(adversarial_text(size)))
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="long", kind="rss",
                               options={"url": file_server.url("feed.xml")}).id
    started = time.perf_counter()
    report = run_source(factory, settings, source_id)
    elapsed = time.perf_counter() - started
    assert (report.status, report.new, report.quarantined) == (RunStatus.SUCCESS, 1, 0)
    assert elapsed < BOUND_SECONDS[size], f"{size / MB:.0f} MB entry took {elapsed:.1f} s"
    assert_cut(only_item(factory), settings, size)


def test_markup_only_entry_is_read_as_far_as_a_bounded_prefix(
    factory: sessionmaker[Session], settings: Settings, file_server: FileServer
) -> None:
    # 3 MB of tags and almost no text: the HTML is read up to 8 times the stored maximum,
    # not whole, and the item says it was cut although its text is short.
    body = "Accueil très aimable à la mairie, écrivez à jean.dupont@example.org. " \
        + "<b><i>" * (3 * MB // 6) + "la fin"
    (file_server.root / "feed.xml").write_bytes(feed_with_entry(body))
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="tags", kind="rss",
                               options={"url": file_server.url("feed.xml")}).id
    started = time.perf_counter()
    report = run_source(factory, settings, source_id)
    assert time.perf_counter() - started < BOUND_SECONDS[30 * MB]
    assert report.new == 1
    item = only_item(factory)
    assert item.text == "Accueil très aimable à la mairie, écrivez à [EMAIL]."
    assert item.extra["truncated"]["text"] > 3 * MB


@pytest.fixture
def admin(factory: sessionmaker[Session]) -> dict[str, str]:
    """Headers of an admin key of authority `valmont`."""
    return admin_headers(factory)


@pytest.fixture
def client(engine: Engine, settings: Settings, tmp_path: Path) -> TestClient:
    """The API, taking bodies up to 40 MB (the default limit is 10 MB)."""
    return api_client(engine, settings, tmp_path, raise_server_exceptions=False,
                      ingest_max_bytes=40 * MB)


@pytest.mark.parametrize("size", SIZES, ids=["1MB", "30MB"])
def test_a_huge_pushed_record_is_stored_cut_not_refused(
    factory: sessionmaker[Session], settings: Settings, client: TestClient,
    admin: dict[str, str], size: int,
) -> None:
    started = time.perf_counter()
    response = client.post("/api/v1/ingest", content=push_body(adversarial_text(size)),
                           headers={**admin, "Content-Type": "application/json"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer["run"]["new"] == 1 and answer["rejected"] == [], answer
    assert elapsed < BOUND_SECONDS[size], f"{size / MB:.0f} MB record took {elapsed:.1f} s"
    assert_cut(only_item(factory), settings, size)


def test_a_1mb_csv_field_is_stored_cut(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    csv_with_row(folder / "reg.csv", adversarial_text(MB, markup=False))
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="reg", kind="complaint_log",
                               options={"path": str(folder)}).id
    started = time.perf_counter()
    report = run_source(factory, settings, source_id)
    assert time.perf_counter() - started < BOUND_SECONDS[MB]
    assert (report.status, report.new, report.quarantined) == (RunStatus.SUCCESS, 2, 0)
    assert_cut(only_item(factory), settings, MB)


def test_a_30mb_csv_record_is_quarantined_in_seconds(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    # Past the 4 MB a CSV record may hold, the row is refused with the reason, the rest read.
    folder = tmp_path / "in"
    folder.mkdir()
    csv_with_row(folder / "reg.csv", adversarial_text(30 * MB, markup=False))
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="reg", kind="complaint_log",
                               options={"path": str(folder)}).id
    started = time.perf_counter()
    report = run_source(factory, settings, source_id)
    assert time.perf_counter() - started < BOUND_SECONDS[30 * MB]
    assert (report.status, report.new, report.quarantined) == (RunStatus.PARTIAL, 1, 1)
    with session_scope(factory) as session:
        message = session.scalars(select(Quarantine.message)).one()
    assert "reg.csv, line 3" in message and "longer than" in message
