"""Minutes and reports (txt, md, docx, odt, pdf): one item per paragraph that carries feedback.

What counts as feedback, and what is skipped as headings, agenda numbers, attendance lists and
boilerplate, is described in :mod:`ecoute.collectors.kinds.documents_text`. The meeting date comes
from the file name or, failing that, the first lines of the document.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

from pydantic import Field, field_validator

from ecoute.collectors.base import (
    CallInterval,
    CollectContext,
    Collector,
    CollectorOptions,
    RawItem,
    Rejected,
)
from ecoute.collectors.kinds.documents_text import (
    UnreadableDocument,
    feedback_paragraphs,
    read_blocks,
)
from ecoute.collectors.files.reading import FileSourceOptions, clean_path, known_encoding, watched_files
from ecoute.errors import FetchError
from ecoute.domain import Channel

MONTHS = {
    "janvier": 1, "janv": 1, "january": 1, "jan": 1,
    "février": 2, "fevrier": 2, "févr": 2, "fevr": 2, "fév": 2, "fev": 2, "february": 2,
    "feb": 2, "mars": 3, "march": 3, "mar": 3, "avril": 4, "avr": 4, "april": 4, "apr": 4,
    "mai": 5, "may": 5, "juin": 6, "june": 6, "jun": 6, "juillet": 7, "juil": 7, "july": 7,
    "jul": 7, "août": 8, "aout": 8, "august": 8, "aug": 8, "septembre": 9, "sept": 9,
    "september": 9, "sep": 9, "octobre": 10, "oct": 10, "october": 10, "novembre": 11,
    "nov": 11, "november": 11, "décembre": 12, "decembre": 12, "déc": 12, "dec": 12,
    "december": 12,
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
ISO_DATE = re.compile(r"(?<!\d)(\d{4})[-_.](\d{1,2})[-_.](\d{1,2})(?!\d)")
COMPACT_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")
NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})[/._-](\d{1,2})[/._-](\d{4})(?!\d)")
DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:er|e|st|nd|rd|th)?[\s_-]+({_MONTH})\.?[\s_-]+(\d{{4}})(?!\d)",
    re.IGNORECASE,
)
MONTH_DAY_YEAR = re.compile(
    rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)", re.IGNORECASE
)


def find_date(text: str, *, month_first: bool = False) -> date | None:
    """The first date written in ``text`` in a French or English format, or None."""
    candidates: list[tuple[int, int, int, int]] = []  # (position, year, month, day)
    for m in ISO_DATE.finditer(text):
        candidates.append((m.start(), int(m[1]), int(m[2]), int(m[3])))
    for m in COMPACT_DATE.finditer(text):
        candidates.append((m.start(), int(m[1]), int(m[2]), int(m[3])))
    for m in NUMERIC_DATE.finditer(text):
        first, second = int(m[1]), int(m[2])
        month, day = (first, second) if month_first else (second, first)
        candidates.append((m.start(), int(m[3]), month, day))
    for m in DAY_MONTH_YEAR.finditer(text):
        candidates.append((m.start(), int(m[3]), MONTHS[m[2].lower()], int(m[1])))
    for m in MONTH_DAY_YEAR.finditer(text):
        candidates.append((m.start(), int(m[3]), MONTHS[m[1].lower()], int(m[2])))
    for _pos, year, month, day in sorted(candidates):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


class DocumentsCollector(Collector):
    """Meeting minutes and reports (txt, md, docx, odt, pdf), one item per feedback paragraph."""

    kind = "documents"
    channel = Channel.MINUTES
    default_schedule = "every 1 day"

    class Options(CollectorOptions):
        path: str = Field(
            description="A document, or a folder watched for new .txt, .md, .docx, .odt and "
            ".pdf files; a file is read once, and again only if its content changed."
        )
        pattern: str = Field(
            "*", description="In a folder, which files to read (glob, e.g. `CR_*.docx`, "
            "`**/*.pdf`); files of other types are quarantined."
        )
        encoding: str | None = Field(
            None, description="Encoding of .txt and .md files (e.g. `cp1252`); empty: detected."
        )
        body: str | None = Field(
            None,
            description="The body that met (school council, user committee, neighbourhood "
            "council...): stored in each item's extra as `body`.",
        )
        channel: Channel = Field(Channel.MINUTES, description="Channel given to the items.")
        lang: str | None = Field(None, description="Language of the documents (fr, en...).")
        min_words: int = Field(
            5, ge=1, le=100, description="Paragraphs with fewer words are skipped."
        )
        month_first: bool = Field(
            False,
            description="Read 03/12/2026 as March 12 (US style) instead of 3 December.",
        )
        max_file_bytes: int = Field(
            50_000_000, ge=1024, description="Larger files are quarantined unread."
        )

        # The same checks as every file collector's (documents take no CSV options).
        @field_validator("path")
        @classmethod
        def _not_blank(cls, value: str) -> str:
            return clean_path(value)

        @field_validator("encoding")
        @classmethod
        def _known_encoding(cls, value: str | None) -> str | None:
            return known_encoding(value)

    options: Options

    def collect(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        files = FileSourceOptions.model_validate(
            {"path": self.options.path, "pattern": self.options.pattern})
        # watched_files remembers each file's sha256 in the cursor once its paragraphs (or
        # its quarantine entry) were handed over: an unchanged file is never read twice.
        for source_file in watched_files(ctx, files):
            if source_file.size > self.options.max_file_bytes:
                yield Rejected(
                    payload=f"{source_file.path} ({source_file.size} bytes)",
                    position=source_file.name,
                    reason=f"{source_file.name}: {source_file.size} bytes, over the limit of "
                    f"{self.options.max_file_bytes} (option max_file_bytes)",
                    error_class="FileTooLarge",
                )
                continue
            try:
                data = source_file.path.read_bytes()
            except OSError as exc:
                raise FetchError(f"{source_file.path}: cannot read the file "
                                 f"({exc.strerror})") from exc
            yield from self._document(source_file.path, data)

    def reread(
        self, payload: str | bytes, position: str
    ) -> Iterator[RawItem | CallInterval | Rejected]:
        if isinstance(payload, str):  # a file quarantined unread (too large): only its name
            yield from super().reread(payload, position)
            return
        # The position of a document's entry is its file name, which its items are keyed on.
        yield from self._document(Path(position), payload)

    def _document(self, path: Path, data: bytes) -> Iterator[RawItem | Rejected]:
        try:
            blocks = read_blocks(path, data, encoding=self.options.encoding)
        except UnreadableDocument as exc:
            yield Rejected(payload=data, position=path.name,
                           reason=f"{path.name}: {exc.reason}", error_class=exc.error_class)
            return
        opening = " ".join(b.text for b in blocks[:10])
        meeting = find_date(path.stem.replace("_", " "), month_first=self.options.month_first) \
            or find_date(opening, month_first=self.options.month_first)
        title = next((b.text for b in blocks[:5] if b.heading), None) or path.stem
        # Noon UTC keeps the calendar day right in every European and American time zone.
        published = (datetime(meeting.year, meeting.month, meeting.day, 12, tzinfo=timezone.utc)
                     if meeting else None)
        occurrences: dict[str, int] = {}
        for index, text in enumerate(feedback_paragraphs(blocks, self.options.min_words)):
            key = hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()[:16]
            occurrences[key] = occurrences.get(key, 0) + 1
            suffix = f"-{occurrences[key]}" if occurrences[key] > 1 else ""
            extra: dict[str, object] = {"document": path.name, "paragraph": index + 1}
            if self.options.body:
                extra["body"] = self.options.body
            if meeting:
                extra["meeting_date"] = meeting.isoformat()
            yield RawItem(
                external_id=f"{path.name}#{key}{suffix}", text=text, title=title[:300],
                published_at=published, lang=self.options.lang, channel=self.options.channel,
                extra=extra,
            )
