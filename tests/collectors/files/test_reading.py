"""The shared file reading of file collectors: folders, encodings, CSV, XLSX, JSON."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path
from unittest.mock import MagicMock

import openpyxl
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ecoute.collectors.base import CollectContext, Rejected
from ecoute.collectors.files.reading import (
    DateColumn,
    FileSourceOptions,
    Record,
    SourceFile,
    check_zip,
    detect_encoding,
    file_sha256,
    parse_datetime,
    read_csv,
    read_json_records,
    read_xlsx,
    sniff_delimiter,
    watched_files,
)
from ecoute.collectors.files.dates import ISO, NUMERIC
from ecoute.collectors.files.formats import MAX_RECORD_BYTES
from ecoute.config.settings import Settings
from ecoute.errors import FetchError, ParseError


def source(path: Path) -> SourceFile:
    return SourceFile(path=path, sha256=file_sha256(path), size=path.stat().st_size)


def context(cursor: dict | None = None) -> CollectContext:
    return CollectContext(source_name="t", options=None, settings=Settings(), http=MagicMock(),
                          cursor=cursor or {}, logger=logging.getLogger("test"))


def records(path: Path, **kw: object) -> list[Record | Rejected]:
    return list(read_csv(source(path), **kw))  # type: ignore[arg-type]


def test_encoding_cascade() -> None:
    assert detect_encoding("\ufeffé".encode("utf-8")) == ("utf-8", 3)
    assert detect_encoding("é;à".encode("utf-8")) == ("utf-8", 0)
    assert detect_encoding("Réclamation : l'accueil était déplorable, très déçu".encode("cp1252"))[0] \
        == "cp1252"
    assert detect_encoding("\ufeffa,b".encode("utf-16"))[0] == "utf-16"


def test_delimiter_sniffing_ignores_quoted_separators() -> None:
    assert sniff_delimiter('"a, b";"c, d";e\n1;2;3\n') == ";"
    assert sniff_delimiter("a\tb\tc\n1\t2\t3\n") == "\t"
    assert sniff_delimiter('id,"text; with; semicolons"\n1,x\n') == ","


def test_delimiter_sniffing_looks_past_report_title_lines() -> None:
    report = ("Queue Interval Report\nPeriod: 04/03/2024 - 05/03/2024\n\n"
              "Queue;Interval Start;Offered;Service level\nDesk;04/03/2024 08:00;12;86,7 %\n"
              "Desk;04/03/2024 08:30;10;85,1 %\n")
    assert sniff_delimiter(report) == ";"
    # A lone separator in a one-column file is not taken for a table.
    assert sniff_delimiter("Remarks\nToo long a wait\nKind staff; thanks\nNothing\n") == ","


def test_csv_line_numbers_survive_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes('id;texte\r\n1;"deux\r\nlignes"\r\n2;"un ""guillemet"""\r\n3;5" écran\r\n'
                     .encode("cp1252"))
    rows = records(path)
    assert [(r.line, r.cells) for r in rows if isinstance(r, Record)] == [
        (1, ["id", "texte"]), (2, ["1", "deux\r\nlignes"]), (4, ["2", 'un "guillemet"']),
        (5, ["3", '5" écran']),
    ]


def test_utf16_export_is_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.txt"
    path.write_bytes("a\tb\r\nété\t2\r\n".encode("utf-16"))
    assert [r.cells for r in records(path)] == [["a", "b"], ["été", "2"]]  # type: ignore[union-attr]


def test_bad_bytes_in_a_utf8_file_reject_only_that_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ecoute.collectors.files.csv_records.SAMPLE_BYTES", 16)  # cp1252 byte after sample
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"id,text\n1,caf\xc3\xa9\n2,caf\xe9\n3,ok\n")
    rows = records(path)
    assert [r.cells[0] for r in rows if isinstance(r, Record)] == ["id", "1", "3"]
    [bad] = [r for r in rows if isinstance(r, Rejected)]
    assert bad.position == "mixed.csv:3" and "utf-8" in bad.reason and "encoding" in bad.reason


def test_huge_field_is_rejected_and_the_next_rows_land(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as fh:
        fh.write('id,text\n1,"ok"\n2,"' + "x" * (MAX_RECORD_BYTES + 1000)
                 + '\nstill inside"\n3,after\n')
    rows = records(path)
    assert [r.cells[0] for r in rows if isinstance(r, Record)] == ["id", "1", "3"]
    [bad] = [r for r in rows if isinstance(r, Rejected)]
    assert bad.position == "big.csv:3" and "longer than" in bad.reason


def test_a_long_field_within_a_record_is_read_whole(tmp_path: Path) -> None:
    # Past the csv module's 128 KiB default: a long complaint is cut at storage, not refused.
    path = tmp_path / "long.csv"
    path.write_text('id,text\n1,"' + "x" * 300_000 + '\nsame field"\n2,after\n')
    rows = records(path)
    assert [len(r.cells[1]) for r in rows if isinstance(r, Record)] == [4, 300_011, 5]


def test_unclosed_quote_at_end_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text('id,text\n1,ok\n2,"never closed\n')
    rows = records(path)
    assert isinstance(rows[-1], Rejected) and "truncated" in rows[-1].reason


def test_watched_folder_imports_each_content_once(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "notes.txt").write_text("x\n")
    ctx = context()
    options = FileSourceOptions(path=str(tmp_path), pattern="*.csv")
    assert [f.name for f in watched_files(ctx, options)] == ["a.csv"]
    (tmp_path / "a.csv").rename(tmp_path / "renamed.csv")
    (tmp_path / "b.csv").write_text("x\n2\n")
    assert [f.name for f in watched_files(ctx, options)] == ["b.csv"]
    assert len(ctx.cursor["files"]) == 2


def test_a_file_is_remembered_only_once_read(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    ctx = context()
    files = watched_files(ctx, FileSourceOptions(path=str(tmp_path / "a.csv")))
    next(files)
    assert "files" not in ctx.cursor  # the caller has not finished the file yet
    files.close()
    assert "files" not in ctx.cursor


def test_missing_path_fails_the_source(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="does not exist"):
        list(watched_files(context(), FileSourceOptions(path=str(tmp_path / "nope"))))


def test_xlsx_rows_stream(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "note", "date"])
    sheet.append([1, 4.0, parse_datetime("2024-03-01 10:00", "UTC").replace(tzinfo=None)])
    sheet.append([None, None, None])
    sheet.append([2, 3.5, None])
    book.save(tmp_path / "g.xlsx")
    rows = list(read_xlsx(source(tmp_path / "g.xlsx")))
    assert [(r.line, r.cells) for r in rows] == [
        (1, ["id", "note", "date"]), (2, ["1", "4", "2024-03-01 10:00:00"]), (4, ["2", "3.5", ""]),
    ]


def test_truncated_xlsx_is_a_parse_error(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["a"])
    book.save(tmp_path / "g.xlsx")
    data = (tmp_path / "g.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])
    with pytest.raises(ParseError, match="cut.xlsx.*truncated"):
        list(read_xlsx(source(tmp_path / "cut.xlsx")))


def test_zip_bomb_is_refused_before_decompression(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(ParseError, match="zip bomb"):
        check_zip(bomb)


def test_json_array_ndjson_and_wrapped_objects(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('[ {"id": 1}, {"id": 2, "t": "' + "y" * 70_000 + '"}, 3 ]')
    assert [n for n, _v in read_json_records(source(tmp_path / "a.json"))] == [1, 2, 3]
    (tmp_path / "b.ndjson").write_text('{"id": 1}\n{broken\n{"id": 3}\n')
    out = list(read_json_records(source(tmp_path / "b.ndjson")))
    assert isinstance(out[1], Rejected) and out[1].position == "b.ndjson:2"
    (tmp_path / "c.json").write_text('{"count": 1, "results": [{"id": 9}]}')
    assert list(read_json_records(source(tmp_path / "c.json"))) == [(1, {"id": 9})]
    (tmp_path / "d.json").write_text('[{"id": 1}, {"id": ')
    with pytest.raises(ParseError, match="truncated"):
        list(read_json_records(source(tmp_path / "d.json")))


def test_parse_datetime_formats() -> None:
    assert parse_datetime("03/02/2024 14:30", "Europe/Paris").isoformat() == \
        "2024-02-03T13:30:00+00:00"
    assert parse_datetime("2024-02-03T10:00:00Z").isoformat() == "2024-02-03T10:00:00+00:00"
    assert parse_datetime("") is None and parse_datetime("soon") is None


#: Values of every shape parse_datetime reads, impossible dates and near misses included.
DATE_VALUES = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.builds(lambda d, m, y, sep, time: f"{d}{sep}{m}{sep}{y}{time}",
              st.integers(0, 35), st.integers(0, 14), st.sampled_from(["2024", "24", "1999"]),
              st.sampled_from(["/", ".", "-"]),
              st.sampled_from(["", " 14:30", " 9h05", "T23:59:59", " 25:61"])),
    st.builds(lambda y, m, d, time: f"{y}/{m}/{d}{time}", st.sampled_from(["2024", "2023"]),
              st.integers(0, 13), st.integers(0, 32),
              st.sampled_from(["", " 2:11:26 PM GMT+1", " 14:11:26", " 14:11", " 13:00 PM",
                               " 10:00 UTC", " 10:00 CET"])),
    st.sampled_from(["03 March 2024", "3 Mar 2024", "03/02/2024 02:11:26 PM", "", "  ",
                     "soon", "2024-02-30", "2024-W05-1", "20240203", "12/31/2024"]),
    st.text(alphabet="0123456789/-.: TZ", max_size=20),
)


@hypothesis_settings(max_examples=1500, deadline=None, database=None)
@given(st.lists(DATE_VALUES, max_size=30), st.sampled_from(["UTC", "Europe/Paris"]))
def test_a_date_column_reads_each_value_as_parse_datetime_does(values: list[str],
                                                               tz: str) -> None:
    column = DateColumn(tz)
    assert [column.parse(v) for v in values] == [parse_datetime(v, tz) for v in values]


def test_a_date_column_detects_its_format_once() -> None:
    column = DateColumn("Europe/Paris")
    assert column.parse("03/02/2024 14:30") == parse_datetime("03/02/2024 14:30", "Europe/Paris")
    # The column's format is tried first: no ISO attempt for the next French date.
    assert column._way == NUMERIC
    assert column.parse("2024-02-03T10:00:00Z") == parse_datetime("2024-02-03T10:00:00Z")
    assert column._way == ISO
