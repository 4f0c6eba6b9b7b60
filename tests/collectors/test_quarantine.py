"""Quarantine entries read again after their source was corrected, dismissed, reported in
real runs and in the source's health; previews show only what would be stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.backoff import source_health
from ecoute.collectors.quarantine import dismiss_entry, retry_entry, retry_source
from ecoute.collectors.service import add_source, change_source, find_source, run_source
from ecoute.config.settings import Settings
from ecoute.errors import NotRetryable, QuarantineNotFound
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import Item, Quarantine, Source
from ecoute.store.quarantine import QuarantineFilters, get_entry, list_entries
from ecoute.store.sources import last_run_quarantined
from tests.helpers import documents as docs


def _minutes_source(factory: sessionmaker[Session], tmp_path: Path) -> int:
    """A documents source told the minutes are ASCII: their accents send them to quarantine."""
    folder = tmp_path / "minutes"
    folder.mkdir()
    docs.write_txt(folder / "conseil.txt")
    with session_scope(factory) as session:
        return add_source(session, authority="demo", name="minutes", kind="documents",
                          options={"path": str(folder), "encoding": "ascii"}).id


def _entry_ids(factory: sessionmaker[Session]) -> list[int]:
    with session_scope(factory) as session:
        return list(session.scalars(select(Quarantine.id).order_by(Quarantine.id)))


def _items(factory: sessionmaker[Session]) -> int:
    with session_scope(factory) as session:
        return session.scalar(select(func.count()).select_from(Item)) or 0


def test_retry_after_the_source_is_corrected_stores_the_items_once(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    source_id = _minutes_source(factory, tmp_path)
    report = run_source(factory, settings, source_id)
    assert (report.status, report.quarantined, report.new) == ("partial", 1, 0)
    # A real run lists what it put in quarantine, not only a dry run.
    assert [r.position for r in report.rejected] == ["conseil.txt"]
    assert "set the `encoding` option" in report.rejected[0].reason
    [entry_id] = _entry_ids(factory)

    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        held = last_run_quarantined(session, [source_id])
        assert held == {source_id: 1}
        health = source_health(source, settings, quarantined=held[source_id])
        assert health.state == "quarantine" and "1 entry in quarantine" in health.describe()

    # Still wrongly configured: the entry stays, nothing is stored.
    result = retry_entry(factory, settings, entry_id)
    assert not result.resolved and "not valid in ascii" in (result.reason or "")
    assert _items(factory) == 0

    with session_scope(factory) as session:
        change_source(session, find_source(session, "demo", "minutes"),
                      options={"encoding": "utf-8"})
    result = retry_entry(factory, settings, entry_id)
    assert result.resolved and result.new == len(docs.FEEDBACK)
    with session_scope(factory) as session:
        entry = session.get(Quarantine, entry_id)
        assert entry is not None and entry.resolved_at is not None
        texts = set(session.scalars(select(Item.text)))
        assert last_run_quarantined(session, [source_id]) == {}
    assert texts == set(docs.FEEDBACK)
    with pytest.raises(NotRetryable, match="already resolved"):
        retry_entry(factory, settings, entry_id)
    assert _items(factory) == len(docs.FEEDBACK)


def test_retry_of_an_entry_stored_meanwhile_counts_a_duplicate(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    """Should the process stop between storing and resolving, a second retry stores nothing
    twice."""
    source_id = _minutes_source(factory, tmp_path)
    run_source(factory, settings, source_id)
    with session_scope(factory) as session:
        change_source(session, find_source(session, "demo", "minutes"),
                      options={"encoding": "utf-8"})
    [entry_id] = _entry_ids(factory)
    retry_entry(factory, settings, entry_id)
    with session_scope(factory) as session:
        entry = session.get(Quarantine, entry_id)
        assert entry is not None
        entry.resolved_at = None
    [again] = retry_source(factory, settings, source_id)
    assert again.resolved and (again.new, again.duplicate) == (0, len(docs.FEEDBACK))
    assert _items(factory) == len(docs.FEEDBACK)


def test_a_kind_that_cannot_read_an_entry_alone_says_so(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    export = tmp_path / "plaintes.csv"
    export.write_text("id,texte\n1,Trop d'attente\n2,\n", encoding="utf-8")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="plaintes",
                               kind="complaint_log", options={"path": str(export)}).id
    assert run_source(factory, settings, source_id).quarantined == 1
    [entry_id] = _entry_ids(factory)
    with pytest.raises(NotRetryable, match="cannot read one quarantined entry"):
        retry_entry(factory, settings, entry_id)
    [result] = retry_source(factory, settings, source_id)  # reported, not raised
    assert not result.resolved and "cannot read" in (result.reason or "")


def test_push_records_are_read_again(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    records = tmp_path / "records.json"
    records.write_text(json.dumps([{"external_id": "a", "text": "Très bon accueil"},
                                   {"external_id": "b", "text": "ok", "colour": "red"}]))
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="push", kind="push",
                               options={"path": str(records)}).id
    run_source(factory, settings, source_id)
    [entry_id] = _entry_ids(factory)
    result = retry_entry(factory, settings, entry_id)
    assert not result.resolved and "colour" in (result.reason or "")


def test_dismiss_list_and_scope(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    source_id = _minutes_source(factory, tmp_path)
    run_source(factory, settings, source_id)
    [entry_id] = _entry_ids(factory)
    with session_scope(factory) as session:
        demo = ensure_authority(session, "demo").id
        other = ensure_authority(session, "autreville").id
        waiting, total = list_entries(session, QuarantineFilters(authority_id=demo))
        assert total == 1 and waiting[0][1] == "minutes"
        assert list_entries(session, QuarantineFilters(authority_id=other)) == ([], 0)
        with pytest.raises(QuarantineNotFound):
            get_entry(session, entry_id, other)
        dismiss_entry(session, get_entry(session, entry_id, demo))
    with session_scope(factory) as session:
        assert list_entries(session, QuarantineFilters(authority_id=demo))[1] == 0
        assert list_entries(session, QuarantineFilters(authority_id=demo, resolved=True))[1] == 1
        assert list_entries(session, QuarantineFilters(authority_id=demo, resolved=None))[1] == 1
        assert last_run_quarantined(session, [source_id]) == {}
    with pytest.raises(NotRetryable):
        retry_entry(factory, settings, entry_id)


def test_a_dry_run_previews_items_as_they_would_be_stored(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    records = tmp_path / "records.json"
    records.write_text(json.dumps([{
        "external_id": "a", "title": "Rappel au 06 12 34 56 78",
        "text": "Écrivez-moi à jean.dupont@example.org ou au 06 12 34 56 78.",
        "author": "Jean Dupont"}]))
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="push", kind="push",
                               options={"path": str(records)}).id
    [preview] = run_source(factory, settings, source_id, dry_run=True).preview
    shown = f"{preview.title} {preview.text} {preview.author}"
    assert "jean.dupont@example.org" not in shown and "06 12 34 56 78" not in shown
    assert "Jean Dupont" not in shown and "[EMAIL]" in shown
    run_source(factory, settings, source_id)
    with session_scope(factory) as session:
        stored = session.scalar(select(Item))
        assert stored is not None
        assert (stored.title, stored.text) == (preview.title, preview.text)
