"""Pushed records read once, into the entries the push source yields, and stored by the runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.base import RawItem, Rejected
from ecoute.collectors.ingest import (
    ingest_records,
    push_source_id,
    pushed_entries,
    split_records,
)
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.errors import InvalidRequest
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import CollectionRun, Item, Quarantine, RunStatus, Source


def test_ndjson_records_keep_their_index_and_line(settings: Settings) -> None:
    body = b'{"external_id": "a", "text": "Bien"}\n\n{broken\n{"external_id": "b"}\n'
    records = split_records(body, "application/x-ndjson")
    assert [r.index for r in records] == [0, 1, 2]
    assert records[1].problem == "record 1 (line 3): not JSON"
    entries = pushed_entries(records, settings)
    assert isinstance(entries[0], RawItem) and entries[0].external_id == "a"
    assert isinstance(entries[1], Rejected) and entries[1].payload == b"{broken"
    assert isinstance(entries[2], Rejected) and entries[2].position == "record 2"
    assert "text" in entries[2].reason


def test_a_json_array_that_cannot_be_read_is_refused_whole() -> None:
    with pytest.raises(InvalidRequest, match="not valid JSON"):
        split_records(b'[{"external_id": "a", "text": "x"},', "application/json")
    with pytest.raises(InvalidRequest, match="no record"):
        split_records(b"[]", "application/json")


def test_pushed_records_are_stored_by_one_run_without_a_file(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
) -> None:
    settings = settings.model_copy(update={"data_dir": tmp_path / "data"})
    with session_scope(factory) as session:
        source_id = push_source_id(session, settings, ensure_authority(session, "valmont"),
                                   "ek_test")
    records = [{"external_id": f"p-{n}", "text": f"Avis numéro {n}, appelez le 06 12 34 56 78"}
               for n in range(5)]
    records.insert(3, {"external_id": "bad", "text": "x", "colour": "red"})
    records.append({"external_id": "blank", "text": "\x00\x01"})
    body = json.dumps(records).encode()
    result = ingest_records(factory, settings, source_id=source_id, body=body,
                            content_type="application/json")
    report = result.report
    assert (result.received, report.new, report.quarantined) == (7, 5, 2)
    assert report.status == RunStatus.PARTIAL and report.run_id is not None
    # Both rejections reach the client: the invalid record and the one left without text.
    assert [(p.index, "colour" in p.reason or "empty" in p.reason) for p in result.rejected] \
        == [(3, True), (6, True)]
    assert not (tmp_path / "data").exists()  # nothing spooled
    with session_scope(factory) as session:
        texts = list(session.scalars(select(Item.text).order_by(Item.external_id)))
        assert len(texts) == 5 and all("06 12" not in t and "[PHONE]" in t for t in texts)
        positions = sorted(session.scalars(select(Quarantine.position)))
        assert positions == ["blank", "record 3"]
        run = session.get(CollectionRun, report.run_id)
        assert run is not None and (run.new, run.quarantined) == (5, 2)
        source = session.get(Source, source_id)
        assert source is not None and source.schedule == "manual" and source.options == {}
        assert source.last_success_at is not None
    again = ingest_records(factory, settings, source_id=source_id, body=body,
                           content_type="application/json")
    assert (again.report.new, again.report.duplicate) == (0, 5)


def test_a_push_source_without_a_file_has_nothing_to_collect(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    with session_scope(factory) as session:
        source = add_source(session, authority="valmont", name="pushed", kind="push",
                            options={})
        assert source.schedule == "manual"
        source_id = source.id
    report = run_source(factory, settings, source_id)
    assert report.status == RunStatus.SUCCESS and report.new == 0
    assert any("ingest API" in warning for warning in report.warnings)
