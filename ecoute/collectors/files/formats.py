"""What a file to import is: its format (CSV, XLSX, JSON or NDJSON, from its content first),
its rows as the readers yield them, and the limits every reader keeps to.

One module per format family reads them: :mod:`~ecoute.collectors.files.csv_records` (with
:mod:`~ecoute.collectors.files.encodings`), :mod:`~ecoute.collectors.files.xlsx_sheets`,
:mod:`~ecoute.collectors.files.json_records`; :mod:`~ecoute.collectors.files.dates` reads the
dates in their cells. Readers stream: memory stays constant whatever the file size. They raise
:class:`~ecoute.errors.ParseError` for a file they cannot read (zip bomb, truncated workbook...)
and yield ``Rejected`` for one bad row (undecodable bytes, a field over the CSV field size
limit), naming the file and line. :mod:`ecoute.collectors.files.reading` is the API collectors use.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from ecoute.collectors.files.encodings import looks_binary
from ecoute.collectors.limits import DEFAULT_LIMITS, InputLimits
from ecoute.errors import ParseError

#: Longest record read (bytes), a CSV line or an NDJSON one; a longer one is rejected.
MAX_RECORD_BYTES = 4 * 1024 * 1024
#: A JSON document that is not an array or NDJSON is parsed whole; above this, it is refused.
JSON_MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    """One file to import."""

    path: Path
    sha256: str
    size: int
    limits: InputLimits = DEFAULT_LIMITS

    @property
    def name(self) -> str:
        return self.path.name

    def at(self, line: int | str) -> str:
        """A quarantine position: ``export.csv:42``."""
        return f"{self.name}:{line}"


@dataclass
class Record:
    """One row of a table file: the line it starts on (1-based) and its cells as text."""

    line: int
    cells: list[str]


def file_format(path: Path) -> str:
    """``csv``, ``xlsx``, ``json`` or ``ndjson``, from the content first, then the suffix."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ParseError(f"{path.name} is an old binary Excel file (.xls)",
                         hint="save it as .xlsx or .csv and import that")
    suffix = path.suffix.lower()
    if suffix in (".ndjson", ".jsonl"):
        return "ndjson"
    stripped = head.lstrip(codecs.BOM_UTF8).lstrip()
    # Read as CSV, any file becomes rows: an XML export or a binary file would be stored as
    # items made of its lines, and the run called a success.
    if stripped[:1] == b"<":
        raise ParseError(f"{path.name} is XML or HTML, not a CSV, XLSX or JSON file",
                         hint="export the data as CSV, XLSX or JSON")
    if looks_binary(head):
        raise ParseError(f"{path.name} is not a text file (binary content)",
                         hint="export the data as CSV, XLSX or JSON")
    if suffix == ".json" or stripped[:1] in (b"[", b"{"):
        first_line = stripped.split(b"\n", 1)[0].strip()
        if stripped[:1] == b"{" and first_line.endswith(b"}") and b"\n{" in stripped:
            return "ndjson"
        return "json"
    return "csv"


def too_many_rows(source: SourceFile, line: int) -> ParseError:
    """The error that stops a reader at the first row past the run's row limit."""
    return ParseError(f"{source.name}: more than {source.limits.max_rows} rows; line {line} and "
                      "the rows after it were not read (ECOUTE_IMPORT_MAX_ROWS)",
                      hint="split the file, or raise ECOUTE_IMPORT_MAX_ROWS")
