"""The rss collector through the real runner, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope
from ecoute.store.models import CollectionRun, Item, Quarantine, RunStatus, Source
from tests.conftest import TEST_DATA, needs_test_data
from tests.helpers.servers import FileServer

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Avis</title><language>fr</language>
{items}
</channel></rss>"""
ITEM = """<item><title>Avis {n}</title><guid>avis-{n}</guid>
<description>&lt;p&gt;Accueil numéro {n} très &lt;b&gt;aimable&lt;/b&gt;, appelez le 06 12 34 56 78&lt;/p&gt;</description>
<author>Jean {n}</author><pubDate>Mon, 0{d} Nov 2026 10:00:00 +0100</pubDate></item>"""


def feed(n: int) -> str:
    return FEED.format(items="\n".join(ITEM.format(n=i, d=1 + i % 9) for i in range(1, n + 1)))


def add(factory: sessionmaker[Session], url: str, name: str = "avis") -> int:
    with session_scope(factory) as session:
        return add_source(session, authority="demo", name=name, kind="rss",
                          options={"url": url}).id


def count(factory: sessionmaker[Session], model: type, **where: object) -> int:
    with session_scope(factory) as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return int(session.scalar(query) or 0)


def test_entries_repeated_in_the_feed_are_not_called_already_stored(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    # Five entries over two batches of 3: avis-1 again, and avis-4 saying what avis-2 said.
    items = [ITEM.format(n=n, d=1 + n % 9) for n in (1, 2, 3, 1)]
    items.append(ITEM.format(n=2, d=3).replace("avis-2</guid>", "avis-4</guid>"))
    path = tmp_path / "avis.xml"
    path.write_text(FEED.format(items="\n".join(items)), encoding="utf-8")
    source_id = add(factory, str(path))
    dry = run_source(factory, settings, source_id, dry_run=True)
    assert [i.external_id for i in dry.preview] == ["avis-1", "avis-2", "avis-3"]
    assert (dry.duplicate, dry.repeated) == (2, 2)  # on an empty database: none stored before
    first = run_source(factory, settings, source_id)
    assert (first.new, first.duplicate) == (3, 2)
    again = run_source(factory, settings, source_id, dry_run=True)
    assert (again.preview, again.duplicate, again.repeated) == ([], 5, 2)


def test_local_feed_lands_once(factory: sessionmaker[Session], settings: Settings,
                               tmp_path: Path) -> None:
    path = tmp_path / "avis.rss"
    path.write_text(feed(7), encoding="utf-8")
    source_id = add(factory, str(path))
    first = run_source(factory, settings, source_id)
    assert (first.status, first.new, first.duplicate, first.quarantined) == ("success", 7, 0, 0)
    second = run_source(factory, settings, source_id)
    assert (second.new, second.duplicate) == (0, 7)
    path.write_text(feed(9), encoding="utf-8")
    third = run_source(factory, settings, source_id)
    assert (third.new, third.duplicate) == (2, 7)
    path.write_text(feed(7), encoding="utf-8")
    assert count(factory, Item) == 9
    assert run_source(factory, settings, source_id).new == 0
    with session_scope(factory) as session:
        item = session.scalar(select(Item).where(Item.external_id == "avis-3"))
        assert item is not None
        assert item.text == "Accueil numéro 3 très aimable, appelez le [PHONE]"
        assert item.lang == "fr" and item.title == "Avis 3"
        assert item.author_hash and "Jean" not in item.author_hash
        assert item.published_at is not None and item.published_at.utcoffset() is not None
        assert item.published_at.hour == 9  # 10:00 +01:00 stored as UTC
        runs = session.scalars(select(CollectionRun).order_by(CollectionRun.id)).all()
        assert {r.status for r in runs} == {RunStatus.SUCCESS} and len(runs) == 4
        assert runs[0].finished_at is not None


def test_truncated_feed_quarantines_the_rest_and_keeps_entries(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    text = feed(5)
    cut = text.index("<item><title>Avis 5") + 40  # inside the fifth entry
    path = tmp_path / "cut.rss"
    path.write_text(text[:cut], encoding="utf-8")
    source_id = add(factory, path.as_uri())
    report = run_source(factory, settings, source_id)
    assert report.status == RunStatus.PARTIAL
    assert report.quarantined == 1
    stored = count(factory, Item)
    assert stored >= 4  # the entries before the cut
    with session_scope(factory) as session:
        row = session.scalars(select(Quarantine)).one()
        assert "malformed feed" in row.message and str(path.as_uri()) in row.message
        assert row.position.startswith("line ")
        assert row.payload_bytes is not None and row.payload_bytes.startswith(b"<?xml")
        assert session.get(Source, source_id).last_error is None  # type: ignore[union-attr]
    again = run_source(factory, settings, source_id)
    assert again.new == 0 and count(factory, Item) == stored
    assert count(factory, Quarantine) == 1  # one record per version of the broken feed


def test_garbage_file_is_quarantined_with_a_readable_reason(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "garbage.rss"
    path.write_bytes(b"\x00\xff this is not a feed \x89PNG")
    report = run_source(factory, settings, add(factory, str(path)))
    assert report.new == 0 and report.quarantined == 1
    with session_scope(factory) as session:
        row = session.scalars(select(Quarantine)).one()
        assert str(path) in row.message


def test_missing_file_fails_the_run_and_records_health(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    source_id = add(factory, str(tmp_path / "nope.rss"))
    report = run_source(factory, settings, source_id)
    assert report.status == RunStatus.FAILED
    assert "cannot read the file" in (report.error or "")
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        assert source.consecutive_failures == 1 and "nope.rss" in (source.last_error or "")


def test_http_feed_uses_conditional_get(
    factory: sessionmaker[Session], settings: Settings, file_server: FileServer
) -> None:
    (file_server.root / "feed.xml").write_text(feed(3), encoding="utf-8")
    source_id = add(factory, file_server.url("feed.xml"))
    assert run_source(factory, settings, source_id).new == 3
    with session_scope(factory) as session:
        etag = session.get(Source, source_id).etag  # type: ignore[union-attr]
    assert etag
    report = run_source(factory, settings, source_id)
    assert report.status == RunStatus.SUCCESS and report.fetched == 0
    assert file_server.requests[-1][1].get("If-None-Match") == etag


def test_dry_run_writes_nothing(factory: sessionmaker[Session], settings: Settings,
                                tmp_path: Path) -> None:
    path = tmp_path / "avis.rss"
    path.write_text(feed(4), encoding="utf-8")
    source_id = add(factory, str(path))
    report = run_source(factory, settings, source_id, dry_run=True, limit=2)
    assert [i.external_id for i in report.preview] == ["avis-1", "avis-2"]
    assert count(factory, Item) == 0 and count(factory, CollectionRun) == 0
    with session_scope(factory) as session:
        assert session.get(Source, source_id).last_run_at is None  # type: ignore[union-attr]


@needs_test_data
def test_real_feedparser_sample(factory: sessionmaker[Session], settings: Settings) -> None:
    sample = TEST_DATA / "feeds/feedparser/wellformed/rss/item_guid.xml"
    report = run_source(factory, settings, add(factory, str(sample)))
    assert report.status in (RunStatus.SUCCESS, RunStatus.PARTIAL)
    assert report.new + report.quarantined >= 1


SAMPLES = TEST_DATA / "feeds/feedparser"


@needs_test_data
@pytest.mark.parametrize(("sample", "new", "quarantined", "status"), [
    ("wellformed/atom10/entry_content_text_plain.xml", 1, 0, RunStatus.SUCCESS),
    ("illformed/rdf_channel_empty_textinput.xml", 1, 1, RunStatus.PARTIAL),
    ("encoding/euc-kr-item.xml", 1, 0, RunStatus.SUCCESS),
    ("wellformed/sanitize/item_description_crazy.xml", 1, 0, RunStatus.SUCCESS),
    ("json/example.json", 2, 0, RunStatus.SUCCESS),
])
def test_feedparser_samples_through_the_runner(
    factory: sessionmaker[Session], settings: Settings, sample: str, new: int,
    quarantined: int, status: RunStatus,
) -> None:
    report = run_source(factory, settings, add(factory, str(SAMPLES / sample)))
    assert (report.status, report.new, report.quarantined) == (status, new, quarantined)
    with session_scope(factory) as session:
        for item in session.scalars(select(Item)):
            assert "<script" not in item.text.lower() and "\ufffd" not in item.text
            assert item.published_at is None or item.published_at.utcoffset() is not None


@needs_test_data
def test_json_feed_items(factory: sessionmaker[Session], settings: Settings) -> None:
    run_source(factory, settings, add(factory, str(SAMPLES / "json/example.json")))
    with session_scope(factory) as session:
        items = {i.external_id: i for i in session.scalars(select(Item))}
    assert items["1"].text == "Hello, world!"  # the <script> is gone
    assert items["1"].url == "https://example.org/initial-post"
    assert items["2"].title == "post 2" and items["2"].text == "This is a second item."


def test_charset_of_the_content_type_wins(
    factory: sessionmaker[Session], settings: Settings, file_server: FileServer
) -> None:
    body = feed(1).encode("iso-8859-1")  # the XML declaration still says utf-8
    file_server.overrides["/latin1.xml"] = (
        200, {"Content-Type": "application/rss+xml; charset=iso-8859-1"}, body)
    report = run_source(factory, settings, add(factory, file_server.url("latin1.xml")))
    assert (report.new, report.quarantined) == (1, 0)  # HTTP's charset wins (RFC 7303)
    with session_scope(factory) as session:
        assert "numéro" in session.scalars(select(Item)).one().text


def test_script_and_event_handlers_never_reach_stored_text(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    hostile = FEED.format(items="""<item><guid>x</guid><title>&lt;b onmouseover="steal()"&gt;Hi&lt;/b&gt;</title>
<description>&lt;p onclick="steal()"&gt;ok&lt;/p&gt;&lt;script&gt;steal()&lt;/script&gt;
&amp;lt;script&amp;gt;twice()&amp;lt;/script&amp;gt; &amp;lt;img src=x onerror=steal()&amp;gt;</description>
<link>javascript:steal()</link></item>""")
    path = tmp_path / "hostile.rss"
    path.write_text(hostile, encoding="utf-8")
    assert run_source(factory, settings, add(factory, str(path))).new == 1
    with session_scope(factory) as session:
        item = session.scalars(select(Item)).one()
    assert item.title == "Hi" and item.url is None
    assert "steal" not in item.text and "twice" not in item.text and "<" not in item.text


def test_watched_folder_of_feed_files(factory: sessionmaker[Session], settings: Settings,
                                      tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.xml").write_text(feed(3), encoding="utf-8")
    (folder / "b.xml").write_text(FEED.format(items=ITEM.format(n=9, d=2)), encoding="utf-8")
    (folder / "broken.xml").write_bytes(b"\x00\xff this is not a feed")
    source_id = add(factory, str(folder))
    first = run_source(factory, settings, source_id)
    assert (first.new, first.quarantined) == (4, 1)
    with session_scope(factory) as session:
        row = session.scalars(select(Quarantine)).one()
        assert "broken.xml" in row.message
    assert run_source(factory, settings, source_id).fetched == 0  # every file already read
    (folder / "c.xml").write_text(feed(5), encoding="utf-8")  # avis-1..3 again, 4 and 5 new
    third = run_source(factory, settings, source_id)
    assert (third.new, third.duplicate) == (2, 3)
    assert count(factory, Item) == 6
