"""Reading files for the file collectors: which files to import, and their rows.

The API, used by every collector that reads local files (surveys, registers, call logs...):

- :class:`FileSourceOptions`: options shared by file sources (``path`` to one file or a folder,
  ``pattern``, ``encoding``, ``delimiter``, ``sheet``, ``timezone``); subclass it.
- :func:`collect_files` walks the files to import (:func:`watched_files`) and runs a reader on
  each; a file that cannot be read at all becomes one :class:`Rejected` and the others go on.
  A file's sha256 is remembered in the source cursor once it is read, so it is never imported
  twice, even renamed; an edited file has a new hash and is read again (the runner's dedupe by
  external id keeps that from duplicating rows).
- :func:`read_rows` yields :class:`Record` (line number + cell strings) from a CSV or XLSX file,
  :func:`read_json_records` the objects of a JSON array, JSON object or NDJSON file. Both stream:
  memory stays constant whatever the file size.
- :func:`detect_encoding` (:mod:`~ecoute.collectors.files.encodings`), :func:`sniff_delimiter`
  (:mod:`~ecoute.collectors.files.csv_records`), :func:`check_zip`
  (:mod:`~ecoute.collectors.files.xlsx_sheets`), :func:`parse_datetime` and :class:`DateColumn`
  for the values of one column (:mod:`~ecoute.collectors.files.dates`), re-exported here.

Readers raise :class:`~ecoute.errors.ParseError` for a file they cannot read (zip bomb,
truncated workbook...) and yield ``Rejected`` for one bad row (undecodable bytes, a field over
the CSV field size limit), naming the file and line.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from ecoute.collectors.base import CollectContext, CollectorOptions, Rejected
from ecoute.collectors.files.csv_records import DELIMITERS, read_csv, sniff_delimiter
from ecoute.collectors.files.dates import DateColumn, parse_datetime
from ecoute.collectors.files.encodings import BOMS, SAMPLE_BYTES, detect_encoding
from ecoute.collectors.files.formats import (
    JSON_MAX_BYTES,
    MAX_RECORD_BYTES,
    Record,
    SourceFile,
    file_format,
)
from ecoute.collectors.files.json_records import read_json_records
from ecoute.collectors.files.local import allowed_roots, configured_path, confine
from ecoute.collectors.files.xlsx_sheets import (
    XLSX_MAX_RATIO,
    XLSX_MAX_UNCOMPRESSED,
    cell_text,
    check_zip,
    read_xlsx,
)
from ecoute.errors import BlockedURL, FetchError, ParseError

# The format readers live in one module per format family; collectors import them from here.
__all__ = [
    "BOMS", "DELIMITERS", "JSON_MAX_BYTES", "MAX_RECORD_BYTES", "SAMPLE_BYTES",
    "XLSX_MAX_RATIO", "XLSX_MAX_UNCOMPRESSED", "DateColumn", "FileSourceOptions", "Record",
    "SourceFile",
    "cell_text", "check_zip", "clean_path", "collect_files", "detect_encoding", "file_format",
    "file_sha256", "known_columns", "known_encoding", "parse_datetime", "read_csv",
    "read_json_records", "read_rows", "read_xlsx", "sniff_delimiter", "watched_files",
]


def clean_path(value: str) -> str:
    """Validator of a ``path`` option: not blank, surrounding spaces dropped."""
    if not value.strip():
        raise ValueError("the path is empty")
    return value.strip()


def known_encoding(value: str | None) -> str | None:
    """Validator of an ``encoding`` option: Python's name for it, or None to detect."""
    if not value:
        return None
    try:
        return codecs.lookup(value).name
    except LookupError:
        raise ValueError(f"unknown encoding {value!r} (try utf-8, cp1252, latin-1)") from None


class FileSourceOptions(CollectorOptions):
    """Options shared by collectors reading local files (subclass and add your own)."""

    path: str = Field(
        description="A file to import, or a folder watched for new files (each file is "
        "imported once, recognised by its content even if renamed)."
    )
    pattern: str = Field(
        "*", description="In a folder, which files to import (glob, e.g. `*.csv`, `**/*.xlsx`)."
    )
    encoding: str | None = Field(
        None, description="Text encoding of CSV files (e.g. `cp1252`); empty: detected "
        "(BOM, then UTF-8, then the most likely one, usually Windows-1252)."
    )
    delimiter: str | None = Field(
        None, description="CSV column separator: `,`, `;`, `tab` or `|`; empty: detected."
    )
    sheet: str | None = Field(
        None, description="XLSX worksheet to read; empty: the first one."
    )
    timezone: str = Field(
        "Europe/Paris", description="Time zone of dates written without one in the files."
    )

    @field_validator("path")
    @classmethod
    def _path_not_blank(cls, value: str) -> str:
        return clean_path(value)

    @field_validator("delimiter")
    @classmethod
    def _known_delimiter(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        value = "\t" if value.lower() in ("tab", "\\t") else value
        if len(value) != 1:
            raise ValueError("the delimiter is one character, or `tab`")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        return known_encoding(value)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Paris)") from None
        return value


def known_columns(value: dict[str, str], fields: Iterable[str]) -> dict[str, str]:
    """Validate a ``columns`` option: every key must be one of the collector's ``fields``."""
    known = list(fields)
    unknown = set(value) - set(known)
    if unknown:
        raise ValueError(f"unknown fields in columns: {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(known)})")
    return value




def read_rows(source: SourceFile, options: FileSourceOptions) -> Iterator[Record | Rejected]:
    """Rows of a CSV or XLSX file (header rows included)."""
    kind = file_format(source.path)
    if kind == "xlsx":
        yield from read_xlsx(source, sheet=options.sheet)
    elif kind == "csv":
        yield from read_csv(source, encoding=options.encoding, delimiter=options.delimiter)
    else:
        raise ParseError(f"{source.name} is {kind.upper()}, not a table",
                         hint="this source reads CSV or XLSX files")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _candidates(options: FileSourceOptions, roots: list[Path]) -> list[Path]:
    root = configured_path(options.path, roots)
    if root is None:
        raise FetchError(f"{options.path}: a file source reads a local file or folder",
                         hint="give a path; web addresses are read by the rss and "
                         "html_reviews sources")
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FetchError(
            f"{root} does not exist", hint="check the `path` option (a file or a folder)"
        )
    found = [
        p for p in root.glob(options.pattern)
        # Hidden files and Office lock files (~$book.xlsx) are not exports; is_file() leaves
        # out FIFOs and devices, and a link out of the allowed folders is not followed.
        if p.is_file() and not p.name.startswith((".", "~$")) and _inside(p, roots)
    ]
    return sorted(found, key=lambda p: (p.stat().st_mtime, str(p)))


def _inside(path: Path, roots: list[Path]) -> bool:
    try:
        confine(path, roots)
    except BlockedURL:
        return False
    return True


def watched_files(ctx: CollectContext, options: FileSourceOptions) -> Iterator[SourceFile]:
    """The files not imported yet, oldest first. A file is recorded in ``ctx.cursor`` when the
    caller asks for the next one (so after all its rows were yielded), never before. Only
    files inside ``ECOUTE_FILE_ROOTS`` are read (see :mod:`ecoute.collectors.files.local`)."""
    seen: set[str] = set()
    for path in _candidates(options, allowed_roots(ctx.settings)):
        try:
            size, sha = path.stat().st_size, file_sha256(path)
        except OSError as exc:
            raise FetchError(f"{path}: cannot read the file ({exc.strerror})") from exc
        known = ctx.cursor.get("files", {})
        if sha in known or sha in seen:
            ctx.logger.debug("%s already imported (as %s)", path, known.get(sha, {}).get("name"))
            continue
        seen.add(sha)
        yield SourceFile(path=path, sha256=sha, size=size, limits=ctx.limits)
        imported = {"name": path.name, "imported_at": datetime.now(timezone.utc).isoformat()}
        # A new dict each time: the runner snapshots the cursor with a shallow copy.
        ctx.cursor["files"] = {**ctx.cursor.get("files", {}), sha: imported}


#: What a file reader yields besides ``Rejected``: ``RawItem``, or ``CallInterval`` for call logs.
Entry = TypeVar("Entry")


def collect_files(
    ctx: CollectContext, options: FileSourceOptions,
    read: Callable[[SourceFile], Iterator[Entry | Rejected]],
) -> Iterator[Entry | Rejected]:
    """Run ``read`` on every new file; a file it cannot read becomes one quarantine entry."""
    for source_file in watched_files(ctx, options):
        try:
            yield from read(source_file)
        except ParseError as exc:
            ctx.logger.warning("%s: %s", source_file.path, exc)
            yield Rejected(payload=str(source_file.path), position=source_file.name,
                           reason=str(exc), error_class=exc.name)
