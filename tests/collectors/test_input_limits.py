"""Bounds on what collectors read: JSON nesting, rows, XLSX expansion, wall time of imports."""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.kinds import open311_georeport as georeport
from ecoute.collectors.kinds.rss_entries import json_feed_entries
from ecoute.collectors.files.reading import SourceFile, file_sha256, read_csv, read_json_records, read_xlsx
from ecoute.collectors.ingest import run_on_file
from ecoute.collectors.limits import InputLimits, loads_bounded, nesting_depth
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.errors import ParseError, RunInterrupted
from ecoute.store.db import session_scope
from ecoute.store.models import RunStatus
from tests.collectors.file_helpers import stored


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def _source(path: Path, **limits: object) -> SourceFile:
    return SourceFile(path=path, sha256=file_sha256(path), size=path.stat().st_size,
                      limits=InputLimits(**limits))  # type: ignore[arg-type]


def test_depth_is_counted_without_recursion_and_refused_with_the_setting_named() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert nesting_depth(deep, 64) == 65  # stops counting once over the limit
    assert nesting_depth({"a": [1, {"b": 2}]}, 64) == 3 and nesting_depth("x", 64) == 0
    with pytest.raises(ParseError, match="ECOUTE_JSON_MAX_DEPTH"):
        loads_bounded(_nested(100_000), 64, what="answer")  # RecursionError in json.loads
    with pytest.raises(ParseError, match="more than 64 levels"):
        loads_bounded(_nested(65), 64, what="answer")
    assert loads_bounded(_nested(64), 64, what="answer") is not None


def test_watched_folder_quarantines_a_100000_level_file_and_goes_on(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "registre"
    folder.mkdir()
    (folder / "1-good.json").write_text('[{"id": "a", "texte": "Accueil très aimable"}]')
    (folder / "2-deep.json").write_text(_nested(100_000))
    (folder / "3-deep-object.json").write_text('{"results": ' + _nested(100_000) + "}")
    (folder / "4-deep-line.ndjson").write_text(
        '{"id": "n1", "text": "Trottoir dangereux"}\n' + '{"a": ' + _nested(500) + "}\n")
    (folder / "5-good.json").write_text('[{"id": "b", "texte": "Attente trop longue"}]')
    for number, name in enumerate(sorted(os.listdir(folder))):  # read oldest first, in order
        os.utime(folder / name, (1_700_000_000 + number, 1_700_000_000 + number))
    with session_scope(factory) as session:
        source_id = add_source(session, authority="valmont", name="registre",
                               kind="complaint_log", options={"path": str(folder)}).id

    report = run_source(factory, settings, source_id)
    assert report.status == RunStatus.PARTIAL, report.error
    found, quarantined = stored(factory)
    assert sorted(i.external_id for i in found) == ["a", "b", "n1"]
    reasons = " | ".join(q.message for q in quarantined)
    assert len(quarantined) == 3 and reasons.count("ECOUTE_JSON_MAX_DEPTH") == 3
    # The bad files are remembered like the good ones: the next run has nothing to do.
    again = run_source(factory, settings, source_id)
    assert again.status == RunStatus.SUCCESS and again.quarantined == 0


def test_a_deep_element_of_an_array_is_quarantined_alone(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('[{"id": 1}, {"extra": ' + _nested(100) + '}, {"id": 3}]')
    out = list(read_json_records(_source(path)))
    assert out[0] == (1, {"id": 1}) and out[2] == (3, {"id": 3})
    assert "more than 64 levels" in out[1].reason  # type: ignore[union-attr]


def test_api_answers_and_feeds_nested_too_deep_are_refused() -> None:
    with pytest.raises(ParseError):
        georeport.parse_document(_nested(100_000).encode(), where="open311")
    entries, problem = json_feed_entries(
        b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + _nested(200).encode()
        + b"}")
    assert problem is not None and "ECOUTE_JSON_MAX_DEPTH" in problem


def test_open311_document_nested_too_deep_is_quarantined_not_a_crash(tmp_path: Path) -> None:
    from tests.collectors.file_helpers import collect, rejected

    path = tmp_path / "requests.json"
    path.write_text(_nested(100_000))
    out = collect("open311", endpoint=str(path), services=False)
    assert len(out) == 1 and "ECOUTE_JSON_MAX_DEPTH" in rejected(out)[0].reason


# --- XLSX and row counts ------------------------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    '+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxml'
    'formats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _workbook(path: Path, rows: int, shared: list[str]) -> Path:
    """A minimal XLSX written by hand: ``rows`` rows whose cell A points at a shared string."""
    sheet = "".join(f'<row r="{n}"><c r="A{n}" t="s"><v>{(n - 1) % len(shared)}</v></c></row>'
                    for n in range(1, rows + 1))
    strings = "".join(f"<si><t>{s}</t></si>" for s in shared)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml",
                         f'<worksheet xmlns="{MAIN}"><sheetData>{sheet}</sheetData></worksheet>')
        archive.writestr("xl/sharedStrings.xml",
                         f'<sst xmlns="{MAIN}" count="{len(shared)}">{strings}</sst>')
    return path


def test_shared_strings_that_expand_past_the_limit_are_refused_before_reading(
    tmp_path: Path
) -> None:
    # Varied text so that the compression ratio stays ordinary: only the size gives it away.
    shared = [f"réponse {n} {os.urandom(8).hex()}" for n in range(20_000)]
    path = _workbook(tmp_path / "bomb.xlsx", 3, shared)
    started = time.monotonic()
    with pytest.raises(ParseError, match="ECOUTE_XLSX_MAX_SHARED_STRINGS_BYTES"):
        list(read_xlsx(_source(path, xlsx_max_shared_strings_bytes=200_000)))
    assert time.monotonic() - started < 2
    assert len(list(read_xlsx(_source(path)))) == 3  # under the default limit: read


def test_rows_past_the_limit_are_refused_with_the_setting_named(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "long.xlsx", 50, ["ligne"])
    out = []
    with pytest.raises(ParseError, match="ECOUTE_IMPORT_MAX_ROWS"):
        for row in read_xlsx(_source(path, max_rows=20)):
            out.append(row)
    assert len(out) == 20
    csv_path = tmp_path / "long.csv"
    csv_path.write_text("id;texte\n" + "".join(f"{n};avis {n}\n" for n in range(50)))
    with pytest.raises(ParseError, match="line 21 and the rows after it"):
        list(read_csv(_source(csv_path, max_rows=20)))


def test_readers_stop_at_the_run_deadline(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.xlsx", 5, ["ligne"])
    with pytest.raises(RunInterrupted, match="ECOUTE_COLLECT_MAX_SECONDS"):
        list(read_xlsx(_source(path, deadline=time.monotonic() - 1, max_seconds=0.0)))


def test_an_import_over_collect_max_seconds_stops_and_keeps_what_it_stored(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "register.ndjson"
    path.write_text("".join(json.dumps({"id": f"r{n}", "text": f"Avis numéro {n}"}) + "\n"
                            for n in range(40)))
    with session_scope(factory) as session:
        source_id = add_source(session, authority="valmont", name="registre",
                               kind="complaint_log", options={"path": str(folder)}).id
    slow = settings.model_copy(update={"collect_max_seconds": 0.05})
    original = InputLimits.check_time

    def slow_check(self: InputLimits) -> None:
        time.sleep(0.01)  # each entry takes a while, as on a huge file
        original(self)

    monkeypatch.setattr(InputLimits, "check_time", slow_check)
    report = run_on_file(factory, slow, source_id, path)
    assert report.status == RunStatus.FAILED and "ECOUTE_COLLECT_MAX_SECONDS" in report.error
    found, _ = stored(factory)
    assert 0 < len(found) < 40 and report.new == len(found)
