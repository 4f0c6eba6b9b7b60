"""A purge is not undone by collecting again, on SQLite and PostgreSQL: items deleted by
retention or removed by an erasure are not stored anew, anonymised ones are not updated, and
entries already past their retention period are not stored; the rollups do not change. Run
errors are stored redacted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.domain import DeterminantMention, Prediction, SentimentScores, OVERALL
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.data_requests import erase_request
from ecoute.privacy import pseudonym
from ecoute.store.db import session_scope
from ecoute.store.models import (
    CollectionRun,
    DailyRollup,
    Item,
    PurgedItem,
    RunStatus,
    Source,
    utcnow,
)
from ecoute.store.retention import apply_retention
from ecoute.store.sources import delete_source
from ecoute.store.taggings import record_predictions

EMAIL = "martine.leroy@example.org"
NOW = datetime.now(timezone.utc)


def write_feed(path: Path, entries: list[tuple[str, str, str | None, int]]) -> Path:
    """An RSS file of (guid, text, author, age in days) entries."""
    items = "".join(
        f"<item><guid>{guid}</guid><description>{escape(text)}</description>"
        + (f"<author>{escape(author)}</author>" if author else "")
        + f"<pubDate>{format_datetime(NOW - timedelta(days=age, hours=1))}</pubDate></item>"
        for guid, text, author, age in entries)
    path.write_text('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                    f"<title>t</title>{items}</channel></rss>", encoding="utf-8")
    return path


FEED = [("a-1", "Accueil très aimable", EMAIL, 3),
        ("a-2", "Attente trop longue au guichet", "paul@example.org", 4),
        ("a-3", "Horaires pratiques", None, 5),
        ("a-4", "Personne ne répond au téléphone", None, 6)]


def add(factory: sessionmaker[Session], path: Path) -> int:
    with session_scope(factory) as session:
        return add_source(session, authority="demo", name="avis", kind="rss",
                          options={"url": str(path)}).id


def classify_all(factory: sessionmaker[Session]) -> None:
    """Every item classified (negative when it complains), which fills the rollups."""
    with session_scope(factory) as session:
        items = list(session.scalars(select(Item).order_by(Item.id)))
        record_predictions(session, items, [
            Prediction(SentimentScores(0.8, 0.1, 0.1) if "longue" in i.text or "répond" in i.text
                       else SentimentScores(0.1, 0.1, 0.8),
                       [DeterminantMention("courtesy", "positive", 0.9, 0, 7)])
            for i in items], model_name="t", model_version="v1")


def collected(factory: sessionmaker[Session], settings: Settings, tmp_path: Path
              ) -> tuple[Path, int]:
    """FEED written, collected by a source and classified: the feed's path, the source's id."""
    path = write_feed(tmp_path / "avis.rss", FEED)
    source_id = add(factory, path)
    assert run_source(factory, settings, source_id).new == 4
    classify_all(factory)
    return path, source_id


def rollups(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with session_scope(factory) as session:
        row = session.execute(
            select(func.sum(DailyRollup.pos), func.sum(DailyRollup.neg), func.sum(DailyRollup.neu))
            .where(DailyRollup.determinant == OVERALL)).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


def items(factory: sessionmaker[Session]) -> dict[str, Item]:
    with session_scope(factory) as session:
        found = {i.external_id: i for i in session.scalars(select(Item))}
        session.expunge_all()
    return found


def purge(factory: sessionmaker[Session], settings: Settings, action: str) -> Settings:
    """Retention of 30 days for feeds, applied as if 60 days had passed."""
    configured = settings.model_copy(update={
        "retention_days_by_kind": {"rss": 30}, "retention_action": action})
    with session_scope(factory) as session:
        report = apply_retention(session, configured, now=utcnow() + timedelta(days=60))
    done = report.items_deleted if action == "delete" else report.items_anonymised
    assert done == {"rss": len(FEED)}
    return configured


def test_deleted_items_are_not_collected_again(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    path, source_id = collected(factory, settings, tmp_path)
    before = rollups(factory)
    assert before == (2, 2, 0)
    configured = purge(factory, settings, "delete")
    assert items(factory) == {}
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(PurgedItem)) == 4
    dry = run_source(factory, configured, source_id, dry_run=True)
    assert (dry.preview, dry.duplicate) == ([], 4)
    again = run_source(factory, configured, source_id)
    assert (again.new, again.updated, again.duplicate, again.expired) == (0, 0, 4, 0)
    assert items(factory) == {}
    # Republished under another id, the same text is recognised by its content hash (feeds
    # are deduplicated by content); a new entry is stored as usual.
    write_feed(path, [("b-1", *FEED[0][1:]), ("a-5", "Très bon conseil", None, 1)])
    third = run_source(factory, configured, source_id)
    assert (third.new, third.duplicate) == (1, 1)
    assert set(items(factory)) == {"a-5"}
    assert rollups(factory) == before  # a-5 is not classified yet: nothing counted twice
    with session_scope(factory) as session:  # purging twice leaves one tombstone per item
        apply_retention(session, configured, now=utcnow() + timedelta(days=60))
        assert session.scalar(select(func.count()).select_from(PurgedItem)) == 5
    with session_scope(factory) as session:  # the tombstones go with their source
        delete_source(session, source_id)
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(PurgedItem)) == 0


def test_anonymised_items_are_not_updated_again(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    path, source_id = collected(factory, settings, tmp_path)
    before = rollups(factory)
    configured = purge(factory, settings, "anonymise")
    # The source edits an entry: without the guard its text would come back as an update.
    edited = [(FEED[0][0], "Accueil très aimable, merci Mme Leroy", EMAIL, 3), *FEED[1:]]
    write_feed(path, edited)
    again = run_source(factory, configured, source_id)
    assert (again.new, again.updated, again.duplicate) == (0, 0, 4)
    stored = items(factory)
    assert {i.text for i in stored.values()} == {""}
    assert all(i.author_hash is None and list(i.extra) == ["anonymised_at"]
               for i in stored.values())
    assert rollups(factory) == before


def test_entries_past_their_retention_are_not_stored(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    path = write_feed(tmp_path / "avis.rss", [("old", "Guichet fermé", None, 45),
                                              ("recent", "Guichet ouvert", None, 2)])
    source_id = add(factory, path)
    configured = settings.model_copy(update={"retention_days_by_kind": {"rss": 30}})
    dry = run_source(factory, configured, source_id, dry_run=True)
    assert [r.external_id for r in dry.preview] == ["recent"] and dry.expired == 1
    report = run_source(factory, configured, source_id)
    assert (report.new, report.duplicate, report.expired) == (1, 1, 1)
    assert any("retention" in w for w in report.warnings)
    assert set(items(factory)) == {"recent"}
    kept = settings.model_copy(update={"retention_days_by_kind": {"rss": 0},
                                       "retention_days": 30})
    assert run_source(factory, kept, source_id).new == 1  # 0 for the kind: kept forever


def test_an_erased_persons_item_does_not_come_back(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    path, source_id = collected(factory, settings, tmp_path)
    with session_scope(factory) as session:
        receipt = erase_request(session, settings, email=EMAIL)
    assert len(receipt.items) == 1
    after_erasure = rollups(factory)
    assert after_erasure == (1, 2, 0)
    again = run_source(factory, settings, source_id)
    assert (again.new, again.duplicate) == (0, 4)
    assert set(items(factory)) == {"a-2", "a-3", "a-4"}
    assert rollups(factory) == after_erasure
    # The tombstone holds nothing that names her.
    hashed = pseudonym(EMAIL, settings.pseudonym_key)
    with session_scope(factory) as session:
        tombstone = session.scalars(select(PurgedItem)).one()
        cells = f"{tombstone.external_key} {tombstone.content_hash}"
    assert EMAIL not in cells and str(hashed) not in cells and "a-1" not in cells
    # The trade-off: when she writes again, that is a new item.
    write_feed(path, [*FEED, ("a-9", "Je reviens vers vous", EMAIL, 0)])
    assert run_source(factory, settings, source_id).new == 1


@pytest.mark.parametrize("dry_run", [False, True])
def test_run_errors_are_stored_redacted(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path, dry_run: bool,
) -> None:
    configured = settings.model_copy(update={"redact_patterns": {"CLIENT": "CL-[0-9]{6}"}})
    folder = tmp_path / "CL-123456 martine.leroy@example.org"
    folder.mkdir()
    source_id = add(factory, folder / "avis.rss")  # missing: the error quotes its path
    report = run_source(factory, configured, source_id, dry_run=dry_run)
    assert report.status == RunStatus.FAILED and "avis.rss" in (report.error or "")
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        stored = [report.error, source.last_error,
                  *(r.error for r in session.scalars(select(CollectionRun)))]
    for text in filter(None, stored):
        assert "CL-123456" not in text and "martine.leroy" not in text
        assert "[CLIENT]" in text and "[EMAIL]" in text
    assert (source.last_error is None) == dry_run
