"""CSV files: their delimiter, and their records streamed with true line numbers.

A record longer than :data:`~ecoute.collectors.files.formats.MAX_RECORD_BYTES` or with bytes
its encoding does not have is rejected alone; the others are read.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import IO

from ecoute.collectors.base import Rejected
from ecoute.collectors.files.encodings import SAMPLE_BYTES, detect_encoding
from ecoute.collectors.files.formats import (
    MAX_RECORD_BYTES,
    Record,
    SourceFile,
    too_many_rows,
)

# A single field may fill a record: a long complaint is stored cut at `text_max_chars`, not
# refused at the csv module's default of 128 KiB (the limit is process-wide and only raised).
csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_BYTES))
DELIMITERS = (",", ";", "\t", "|")
#: How many leading records that no delimiter splits (report titles) the sniffer looks past.
SNIFF_TITLE_LINES = 10


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
                raise too_many_rows(source, line)
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
