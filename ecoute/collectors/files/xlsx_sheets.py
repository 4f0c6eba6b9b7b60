"""XLSX workbooks: refused when their zip directory announces a bomb, otherwise read row by
row by openpyxl's read-only mode."""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ecoute.collectors.files.formats import Record, SourceFile, too_many_rows
from ecoute.collectors.limits import DEFAULT_LIMITS, InputLimits
from ecoute.errors import ParseError

#: Zip-bomb guard for XLSX: total uncompressed size and compression ratio of any member.
XLSX_MAX_UNCOMPRESSED = 1024 * 1024 * 1024
XLSX_MAX_RATIO = 200


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
                raise too_many_rows(source, number)
            cells = [cell_text(v) for v in values]
            if any(cells):
                yield Record(number, cells)
    finally:
        book.close()
