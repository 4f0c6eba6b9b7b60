"""The formats file sources arrive in: encodings, CSV dialects, XLSX, dates (JSON records are
read by :mod:`ecoute.collectors.files.json_records`).

Readers stream: memory stays constant whatever the file size. They raise
:class:`~ecoute.errors.ParseError` for a file they cannot read (zip bomb, truncated workbook...)
and yield ``Rejected`` for one bad row (undecodable bytes, a field over the CSV field size
limit), naming the file and line. :mod:`ecoute.collectors.files.reading` is the API collectors use.
"""

from __future__ import annotations

import codecs
import csv
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ecoute.collectors.base import Rejected
from ecoute.collectors.limits import DEFAULT_LIMITS, InputLimits
from ecoute.errors import ParseError

if TYPE_CHECKING:
    from ecoute.collectors.files.reading import FileSourceOptions

#: Longest CSV record read (bytes); a longer one is skipped to the next record and rejected.
MAX_RECORD_BYTES = 4 * 1024 * 1024
# A single field may fill a record: a long complaint is stored cut at `text_max_chars`, not
# refused at the csv module's default of 128 KiB (the limit is process-wide and only raised).
csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_BYTES))
#: Zip-bomb guard for XLSX: total uncompressed size and compression ratio of any member.
XLSX_MAX_UNCOMPRESSED = 1024 * 1024 * 1024
XLSX_MAX_RATIO = 200
#: A JSON document that is not an array or NDJSON is parsed whole; above this, it is refused.
JSON_MAX_BYTES = 200 * 1024 * 1024
SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
#: How many leading records that no delimiter splits (report titles) the sniffer looks past.
SNIFF_TITLE_LINES = 10
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)



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


# --- formats, encodings, delimiters -----------------------------------------------------------

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


def looks_binary(head: bytes) -> bool:
    """Whether the first bytes of a file are not text in any encoding a table comes in.

    UTF-16/32 text (with or without a BOM) is full of NUL bytes, but at every other position;
    text in a single-byte encoding or UTF-8 has almost no control bytes at all.
    """
    if not head or any(head.startswith(bom) for bom, _name in BOMS):
        return False
    nuls = head.count(0)
    if nuls and nuls >= len(head) // 4 and (
            head[0::2].count(0) == 0 or head[1::2].count(0) == 0):
        return False  # UTF-16 (or 32) without a BOM: NULs only on one side of every pair
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) // 20


def detect_encoding(sample: bytes) -> tuple[str, int]:
    """(encoding, BOM length): a BOM wins, then UTF-8 if the sample decodes, then the
    charset-normalizer guess, then cp1252 (what Excel writes on French Windows)."""
    for bom, name in BOMS:
        if sample.startswith(bom):
            return name, len(bom)
    try:
        sample.decode("utf-8")
        return "utf-8", 0
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:  # a character cut by the end of the sample
            return "utf-8", 0
    from charset_normalizer import from_bytes

    best = from_bytes(sample[:65536], cp_isolation=["cp1252", "latin_1", "iso8859_15",
                                                     "cp850", "mac_roman"]).best()
    guess = codecs.lookup(best.encoding).name if best else "cp1252"
    return ("cp1252" if guess == "iso8859-1" else guess), 0


def sniff_delimiter(sample: str) -> str:
    """The candidate that splits the first record into the most columns, consistently with
    the next two (quoted separators in long headers do not count).

    Report exports put title lines above the header ("Rapport d'intervalles…", "Période : …"):
    records that no candidate splits are skipped, up to the first one that splits, which must
    then agree with one of the next two to count.
    """
    best, best_score = ",", (0, 0, 0)
    for delim in DELIMITERS:
        try:
            rows: list[int] = []
            skipped = 0
            for row in csv.reader(_lines_of(sample), delimiter=delim):
                if not rows and len(row) < 2:
                    skipped += 1
                    if skipped > SNIFF_TITLE_LINES:
                        break
                    continue
                rows.append(len(row))
                if len(rows) == 3:
                    break
        except csv.Error:
            continue
        if not rows:
            continue
        consistent = sum(1 for n in rows[1:] if n == rows[0])
        if skipped and not consistent:
            continue  # one stray separator in a title or a comment proves nothing
        score = (consistent, -skipped, rows[0])
        if score > best_score:
            best, best_score = delim, score
    return best


def _lines_of(sample: str) -> Iterator[str]:
    lines = sample.splitlines(keepends=True)
    # The sample ends anywhere: a last line without its newline is cut, leave it out.
    if len(lines) > 1 and not lines[-1].endswith(("\n", "\r")):
        lines.pop()
    yield from lines


# --- CSV ----------------------------------------------------------------------------------------

def _line_reader(fh: IO[bytes], encoding: str) -> tuple[Callable[[int], bytes], str]:
    """A ``readline(limit)`` giving ASCII-compatible bytes, and the encoding of those bytes."""
    if encoding.startswith(("utf-16", "utf-32")):
        import io

        text = io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")
        return (lambda limit: text.readline(limit).encode("utf-8")), "utf-8"
    return fh.readline, encoding


def _physical_records(readline: Callable[[int], bytes]) -> Iterator[tuple[int, bytes, bool]]:
    """(first line, bytes, too_long) per CSV record; a record continues while a quoted field
    is open, so newlines inside quotes do not split it and line numbers stay true."""
    chunks: list[bytes] = []
    done_lines, size, quotes, start, too_long = 0, 0, 0, 1, False
    while True:
        chunk = readline(MAX_RECORD_BYTES + 1)
        if not chunk:
            break
        if not chunks and not too_long:
            start = done_lines + 1
        quotes += chunk.count(b'"')
        if not too_long:
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RECORD_BYTES:
                too_long, chunks = True, [b"".join(chunks)[:2000]]
        if not chunk.endswith(b"\n"):
            continue  # a line longer than the read limit: keep reading it
        done_lines += 1
        if quotes % 2 and not too_long:
            continue  # inside a quoted field (confirmed by the strict parse below)
        if too_long and quotes % 2:
            continue
        yield start, b"".join(chunks), too_long
        chunks, size, quotes, too_long = [], 0, 0, False
    if chunks:
        yield start, b"".join(chunks), too_long


def read_csv(
    source: SourceFile, *, encoding: str | None = None, delimiter: str | None = None
) -> Iterator[Record | Rejected]:
    """Every record of a CSV file (header included), streamed."""
    with source.path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
        detected, bom = detect_encoding(sample)
        enc = encoding or detected
        # UTF-16/32 codecs read their BOM themselves; the UTF-8 one is skipped here.
        fh.seek(bom if enc == detected == "utf-8" else 0)
        if delimiter is None:
            delimiter = sniff_delimiter(sample[bom:].decode(enc, errors="replace"))
        readline, byte_enc = _line_reader(fh, enc)
        pending: tuple[int, str] | None = None
        for count, (line, raw, too_long) in enumerate(_physical_records(readline), start=1):
            source.limits.check_time()
            if count > source.limits.max_rows:
                _over_rows(source, line)
            if too_long:
                yield Rejected(raw[:2000], source.at(line),
                               f"{source.name}, line {line}: record longer than "
                               f"{MAX_RECORD_BYTES} bytes, skipped")
                continue
            try:
                text = raw.decode(byte_enc)
            except UnicodeDecodeError as exc:
                if byte_enc == "cp1252":  # 5 bytes cp1252 leaves undefined; latin-1 has them
                    text = raw.decode("latin-1")
                else:
                    yield Rejected(raw, source.at(line),
                                   f"{source.name}, line {line}: bytes not valid in {byte_enc} "
                                   f"({exc.reason} at byte {exc.start}); set the `encoding` "
                                   "option if the file uses another one")
                    continue
            if pending is not None:  # an odd quote count that was a literal quote after all
                line, text = pending[0], pending[1] + text
                pending = None
            parsed = _parse_record(text, delimiter)
            if parsed is None:
                pending = (line, text)
                continue
            if isinstance(parsed, str):
                yield Rejected(text[:2000], source.at(line),
                               f"{source.name}, line {line}: {parsed}")
            elif parsed:
                yield Record(line, parsed)
        if pending is not None:
            yield Rejected(pending[1][:2000], source.at(pending[0]),
                           f"{source.name}, line {pending[0]}: a quoted field is never closed "
                           "(the file may be truncated)")


def _parse_record(text: str, delimiter: str) -> list[str] | str | None:
    """Cells, ``None`` when a quoted field is still open, or the reason the record is bad."""
    if '"' not in text:
        return text.rstrip("\r\n").split(delimiter) if text.strip("\r\n") else []
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=True), [])
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return None
        if "field larger than field limit" in str(exc):
            return f"a field is longer than the CSV field size limit ({csv.field_size_limit()})"
    try:  # stray quotes inside a field: read leniently, as spreadsheets do
        return next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error as exc:
        return f"cannot be read as CSV ({exc})"


def _over_rows(source: SourceFile, line: int) -> None:
    raise ParseError(f"{source.name}: more than {source.limits.max_rows} rows; line {line} and "
                     "the rows after it were not read (ECOUTE_IMPORT_MAX_ROWS)",
                     hint="split the file, or raise ECOUTE_IMPORT_MAX_ROWS")


# --- XLSX ---------------------------------------------------------------------------------------

def check_zip(path: Path, limits: InputLimits = DEFAULT_LIMITS) -> None:
    """Refuse a zip whose directory announces a bomb, before any member is decompressed.

    Sizes announced by the directory bound what ``zipfile`` will ever inflate, so checking
    them is enough. The shared strings are the one part openpyxl keeps whole in memory."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ParseError(f"{path.name} is not a readable XLSX workbook ({exc}); it may be "
                         "truncated", hint="export the workbook again") from exc
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > XLSX_MAX_RATIO:
            raise ParseError(f"{path.name}: member {member.filename} expands {ratio:.0f} times "
                             "(a zip bomb?); refused")
        if member.filename.lower().endswith("sharedstrings.xml") \
                and member.file_size > limits.xlsx_max_shared_strings_bytes:
            raise ParseError(
                f"{path.name}: its text cells expand to {member.file_size} bytes, over the "
                f"{limits.xlsx_max_shared_strings_bytes}-byte limit "
                "(ECOUTE_XLSX_MAX_SHARED_STRINGS_BYTES)",
                hint="export the sheet as CSV, which is read in constant memory")
    if total > XLSX_MAX_UNCOMPRESSED:
        raise ParseError(f"{path.name} would expand to {total} bytes, over the "
                         f"{XLSX_MAX_UNCOMPRESSED} limit; split the workbook or export CSV")


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def read_xlsx(source: SourceFile, *, sheet: str | None = None) -> Iterator[Record]:
    """Rows of one worksheet, streamed by openpyxl's read-only mode."""
    check_zip(source.path, source.limits)
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it does not need
            book = openpyxl.load_workbook(source.path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, zipfile and XML errors alike
        raise ParseError(f"{source.name} is not a readable XLSX workbook ({exc})",
                         hint="open it in a spreadsheet and save it again") from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ParseError(f"{source.name} has no sheet {sheet!r}",
                             hint=f"sheets: {', '.join(book.sheetnames)}")
        rows = (book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True)
        number = 0
        while True:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    values = next(rows, None)
            except Exception as exc:
                raise ParseError(f"{source.name}: row {number + 1} cannot be read ({exc}); "
                                 "the workbook may be truncated") from exc
            if values is None:
                break
            number += 1
            source.limits.check_time()
            if number > source.limits.max_rows:
                _over_rows(source, number)
            cells = [cell_text(v) for v in values]
            if any(cells):
                yield Record(number, cells)
    finally:
        book.close()


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


# --- values -------------------------------------------------------------------------------------

DATE_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
                "%d %B %Y", "%d %b %Y")
_NUMERIC_DATE = re.compile(
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[ T]+(\d{1,2})[:hH](\d{2})(?::(\d{2}))?)?")
#: Google Forms' own CSV download: ``2024/03/02 2:11:26 PM GMT+1`` (12-hour clock, the form
#: owner's offset; a zone abbreviation such as ``CET`` leaves the source's ``timezone``).
_YEAR_FIRST_STAMP = re.compile(
    r"(\d{4})/(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?"
    r"(?:\s+(?:(?:GMT|UTC)(?:([+-])(\d{1,2})(?::?(\d{2}))?)?|[A-Z]{2,5}))?")


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_datetime(value: str, tz: str = "UTC") -> datetime | None:
    """An aware UTC datetime from the usual export formats: ISO 8601, day first as in France
    (``03/02/2024 14:30``, month first only when the day cannot be first), ``2024/02/03``.
    Naive values are read in ``tz``. None when empty or unreadable."""
    return _parsed(value, tz)[1]


#: How :func:`parse_datetime` read a value, tried in this order; the first that recognises
#: the value's shape decides (its date may still be impossible: None).
ISO, NUMERIC, YEAR_FIRST, FORMATS = range(4)


def _parsed(value: str, tz: str, first: int | None = None) -> tuple[int | None, datetime | None]:
    """(the way that read ``value``, the datetime) or (None, None). ``first``: a way to try
    before the others, among those whose shapes no earlier way recognises (NUMERIC starts
    with a one- or two-digit day, YEAR_FIRST with a year and a slash, ISO with a four-digit
    year and a dash or a digit), so that trying it first never changes the result."""
    value = value.strip()
    if not value:
        return None, None
    if first is not None:
        way, parsed = _read(value, first)
        if way is not None:
            return way, _aware(parsed, tz)
    for way in (ISO, NUMERIC, YEAR_FIRST, FORMATS):
        if way != first:
            found, parsed = _read(value, way)
            if found is not None:
                return found, _aware(parsed, tz)
    return None, None


def _read(value: str, way: int) -> tuple[int | None, datetime | None]:
    """(``way``, the datetime it reads, None for an impossible date) when ``way`` recognises
    the value's shape; (None, None) when it does not."""
    if way == ISO:
        try:
            return ISO, datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None, None
    if way == NUMERIC:
        match = _NUMERIC_DATE.fullmatch(value)
        if not match:
            return None, None
        day, month, year, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        if month > 12 >= day:  # 12/31/2024: an American export
            day, month = month, day
        year += 2000 if year < 100 else 0
        try:
            return NUMERIC, datetime(year, month, day, hour, minute, second)
        except ValueError:
            return NUMERIC, None
    if way == YEAR_FIRST:
        stamp = _YEAR_FIRST_STAMP.fullmatch(value)
        return (YEAR_FIRST, _year_first_stamp(stamp)) if stamp else (None, None)
    for fmt in DATE_FORMATS:
        try:
            return FORMATS, datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None, None


def _aware(parsed: datetime | None, tz: str) -> datetime | None:
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_zone(tz))
    return parsed.astimezone(timezone.utc)


class DateColumn:
    """:func:`parse_datetime` for the values of one column of a file.

    A column holds one format: the way that read its last value is tried first, so the
    format is not detected again for every value (an ISO attempt on a French date costs an
    exception); and its values repeat (the day's complaints share a date), so the last few
    thousand are remembered. Results are those of :func:`parse_datetime`, value by value."""

    REMEMBERED = 4096

    def __init__(self, tz: str = "UTC") -> None:
        self.tz = tz
        self._way: int | None = None
        self._seen: dict[str, datetime | None] = {}

    def parse(self, value: str) -> datetime | None:
        if value in self._seen:
            return self._seen[value]
        # Only a way whose shapes no earlier way recognises may go first (see _parsed).
        first = self._way if self._way in (NUMERIC, YEAR_FIRST) else None
        way, parsed = _parsed(value, self.tz, first)
        if way is not None:
            self._way = way
        if len(self._seen) >= self.REMEMBERED:
            self._seen.clear()
        self._seen[value] = parsed
        return parsed


def _year_first_stamp(match: re.Match[str]) -> datetime | None:
    year, month, day, hour, minute, second = (int(g or 0) for g in match.groups()[:6])
    meridiem, sign, off_hours, off_minutes = match.groups()[6:]
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem.lower() == "pm" else 0)
    zone = None
    if sign or match.group(0).rstrip().upper().endswith(("GMT", "UTC")):
        offset = timedelta(hours=int(off_hours or 0), minutes=int(off_minutes or 0))
        zone = timezone(-offset if sign == "-" else offset)
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:
        return None
