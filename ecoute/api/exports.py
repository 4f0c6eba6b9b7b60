"""Item and satisfaction exports for spreadsheets: CSV written row by row with the csv module,
XLSX with openpyxl's write-only workbook.

Both stream: items are read one keyset page at a time (``store.item_listing.iter_item_pages``)
in a session of the export's own (the request's session ends when the endpoint returns, before
the body is sent), so that an export of a million items holds one page in memory. A write-only
workbook keeps its rows in a temporary file; the finished file is then sent in chunks.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.orm import Session, sessionmaker

from ecoute.assessment.satisfaction import DeterminantFigure, SatisfactionReport
from ecoute.domain import Polarity
from ecoute.store.authorities import list_departments, list_sites
from ecoute.store.db import session_scope
from ecoute.store.item_listing import ItemFilters, iter_item_pages
from ecoute.store.items import latest_taggings, tags_for
from ecoute.store.sources import source_names
from ecoute.store.taggings import effective_tags

ITEM_COLUMNS = ("id", "published_at", "collected_at", "source_id", "source", "channel",
                "department_id", "department", "site_id", "site", "lang", "sentiment",
                "sentiment_by", "determinants", "rating_value", "rating_scale", "rating_norm",
                "title", "text", "url")
#: Items read per query; an export holds about this many in memory.
PAGE_SIZE = 1000
#: Bytes per chunk of a finished workbook sent.
CHUNK = 64 * 1024
#: What a spreadsheet would run as a formula when the cell is opened (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Row = tuple[Any, ...]


def item_rows(factory: sessionmaker[Session], filters: ItemFilters) -> Iterator[list[Row]]:
    """The export rows of the items ``filters`` select (``ITEM_COLUMNS``), a page at a time,
    read in a session of their own."""
    with session_scope(factory) as session:
        sources = source_names(session, filters.authority_id)
        departments = {d.id: d.name for d in list_departments(session, filters.authority_id)}
        sites = {s.id: s.name for s in list_sites(session, filters.authority_id)}
        for page in iter_item_pages(session, filters, page_size=PAGE_SIZE):
            ids = [i.id for i in page]
            tags, taggings = tags_for(session, ids), latest_taggings(session, ids)
            rows = []
            for item in page:
                tagging = taggings.get(item.id)
                kept = sorted({(t.determinant, t.polarity) for t in effective_tags(tags[item.id])
                               if t.polarity != Polarity.NONE})
                rows.append((
                    item.id, item.published_at, item.collected_at, item.source_id,
                    sources.get(item.source_id), item.channel, item.department_id,
                    departments.get(item.department_id or 0), item.site_id,
                    sites.get(item.site_id or 0), item.lang,
                    item.human_sentiment or (tagging.sentiment if tagging else None),
                    "human" if item.human_sentiment else ("model" if tagging else None),
                    "; ".join(f"{d}:{p}" for d, p in kept),
                    item.rating_value, item.rating_scale, item.rating_norm,
                    item.title, item.text, item.url,
                ))
            yield rows


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_stream(header: Sequence[str], pages: Iterable[list[Row]]) -> Iterator[bytes]:
    """CSV in UTF-8 with a byte order mark (so that spreadsheets read accents right), one
    chunk per page."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield ("\ufeff" + buffer.getvalue()).encode()
    for rows in pages:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_csv_cell(v) for v in row] for row in rows)
        yield buffer.getvalue().encode()


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, datetime):
        # Spreadsheets know no time zones: UTC, as the column header says.
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"  # text that looks like a formula stays text
            return cell
    return value


def _send(file: IO[bytes]) -> Iterator[bytes]:
    with file:
        file.seek(0)
        while chunk := file.read(CHUNK):
            yield chunk


def xlsx_stream(sheets: Iterable[tuple[str, Sequence[str], Iterable[list[Row]]]]
                ) -> Iterator[bytes]:
    """A workbook of ``(title, header, pages of rows)`` sheets, built in a temporary file and
    sent in chunks."""
    book = Workbook(write_only=True)
    for title, header, pages in sheets:
        sheet = book.create_sheet(title)
        sheet.append(list(header))
        for rows in pages:
            for row in rows:
                sheet.append([_xlsx_cell(sheet, v) for v in row])
    file = tempfile.TemporaryFile()
    book.save(file)
    yield from _send(file)


ITEM_HEADER = tuple(f"{c} (UTC)" if c.endswith("_at") else c for c in ITEM_COLUMNS)

FIGURE_COLUMNS = ("determinant", "positive", "negative", "neutral", "n", "share_positive",
                  "ci_low", "ci_high", "net_score", "sufficient")


def _figure_row(f: DeterminantFigure) -> Row:
    return (f.determinant, f.positive, f.negative, f.neutral, f.n, f.share_positive,
            f.interval.low if f.interval else None, f.interval.high if f.interval else None,
            f.net_score, f.sufficient)


def satisfaction_sheets(authority: str, window: str, report: SatisfactionReport,
                        filters: dict[str, Any]
                        ) -> list[tuple[str, Sequence[str], Iterable[list[Row]]]]:
    """The satisfaction figures of ``report`` (overall first), and what they are about."""
    about = [("authority", authority), ("window", window),
             ("start", report.window.start), ("end", report.window.end),
             ("min_sample_size", report.min_sample_size),
             ("rating_mean", report.rating_mean), ("rating_count", report.rating_count),
             *((name, value) for name, value in filters.items() if value is not None)]
    figures = [_figure_row(report.overall), *(_figure_row(f) for f in report.determinants)]
    return [("satisfaction", FIGURE_COLUMNS, [figures]),
            ("about", ("field", "value"), [about])]
