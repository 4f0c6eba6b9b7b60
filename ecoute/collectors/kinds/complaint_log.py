"""Complaint registers: CSV/XLSX/JSON/NDJSON exports of a complaints or mediation log.

Each row is a complaint; its status and response date are kept in ``extra`` (with the days
taken to respond) for the responsiveness indicators. A register exported again where only a
complaint's status or response date moved updates that complaint (``extra["versions"]`` keeps
the history) instead of being taken for a duplicate. Columns are found by the usual French and
English header names unless mapped in the options.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from pydantic import Field, field_validator

from ecoute.collectors.base import CollectContext, Collector, RawItem, Rejected
from ecoute.collectors.files.reading import (
    DateColumn,
    FileSourceOptions,
    SourceFile,
    collect_files,
    file_format,
    known_columns,
    read_json_records,
    read_rows,
)
from ecoute.errors import ParseError
from ecoute.domain import Channel

#: Header names recognised for each field when it is not mapped (compared lower-cased).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "identifiant", "numéro", "numero", "n°", "no", "référence", "reference", "ref",
           "ticket", "complaint id", "case id", "dossier"),
    "received": ("date de réception", "date reception", "date réception", "reçue le",
                 "received", "received at", "date received", "date", "created", "created at",
                 "date de dépôt", "date de saisie"),
    "channel": ("canal", "channel", "mode de réception", "origine", "source"),
    "subject": ("objet", "subject", "titre", "title", "sujet"),
    "text": ("texte", "text", "description", "message", "réclamation", "reclamation",
             "contenu", "body", "complaint", "verbatim", "détail", "detail", "commentaire"),
    "category": ("catégorie", "categorie", "category", "motif", "thème", "theme", "type"),
    "site": ("site", "lieu", "agence", "location", "établissement"),
    "department": ("service", "department", "direction", "département"),
    "status": ("statut", "status", "état", "etat"),
    "response_date": ("date de réponse", "date reponse", "date de réponse envoyée", "répondue le",
                      "response date", "responded at", "date réponse"),
    "closed": ("date de clôture", "date clôture", "date de cloture", "clôturée le",
               "closed at", "closed on", "closure date", "date closed"),
}

#: Statuses that say a complaint is closed: its response date is then its closing date.
CLOSED_STATUSES = frozenset({
    "clos", "close", "closed", "clôturé", "clôturée", "cloturé", "cloturée", "clôture",
    "résolu", "résolue", "resolu", "resolved", "terminé", "terminée", "done"})
#: Fields whose presence says the register tracks how complaints are handled.
HANDLING = ("status", "response_date", "closed")


class ComplaintLogCollector(Collector):
    """Complaint registers (CSV, XLSX, JSON or NDJSON) with a column mapping."""

    kind = "complaint_log"
    channel = Channel.COMPLAINT
    default_schedule = "every 1 day"
    dedupe_by_content = False  # two users may send the same short complaint

    class Options(FileSourceOptions):
        columns: dict[str, str] = Field(
            default_factory=dict, description="Which column holds each field: keys among "
            "id, received, channel, subject, text, category, site, department, status, "
            "response_date, closed; values are header names (or JSON keys). Unmapped fields "
            "are found by their usual French/English names; `text` must exist. A register "
            "with a status, response or closing date counts in the response times.")
        lang: str | None = Field(None, description="Language of the complaints, if known.")

        @field_validator("columns")
        @classmethod
        def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
            return known_columns(value, SYNONYMS)

    options: Options

    def collect(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        return collect_files(ctx, self.options, self._read)

    def _read(self, source: SourceFile) -> Iterator[RawItem | Rejected]:
        if file_format(source.path) in ("json", "ndjson"):
            yield from self._read_json(source)
            return
        rows = read_rows(source, self.options)
        dates = self._date_columns()
        header: list[str] | None = None
        for row in rows:
            if isinstance(row, Rejected):
                yield row
                continue
            if header is None:
                header = row.cells
                mapping = self._mapping(header, source)
                width = len(header)
                continue
            if len(row.cells) > width and any(row.cells[width:]):
                yield Rejected(json.dumps(row.cells, ensure_ascii=False)[:2000],
                               source.at(row.line), f"{source.name}, line {row.line}: "
                               f"{len(row.cells)} cells for {width} columns")
                continue
            cells = row.cells
            record = {f: cells[i].strip() for f, i in mapping.items() if i < len(cells)}
            yield self._item(record, source, row.line, cells, dates)
        if header is None:
            raise ParseError(f"{source.name} is empty: no header row")

    def _read_json(self, source: SourceFile) -> Iterator[RawItem | Rejected]:
        mapping: dict[str, str] | None = None
        dates = self._date_columns()
        for entry in read_json_records(source):
            if isinstance(entry, Rejected):
                yield entry
                continue
            number, value = entry
            if not isinstance(value, dict):
                yield Rejected(json.dumps(value)[:2000], source.at(number),
                               f"{source.name}, record {number}: not a JSON object")
                continue
            if mapping is None:
                keys = [str(k) for k in value]
                mapping = {f: keys[i] for f, i in self._mapping(keys, source).items()}
            record = {f: _text(value.get(k)) for f, k in mapping.items()}
            yield self._item(record, source, number, value, dates)

    def _mapping(self, header: list[str], source: SourceFile) -> dict[str, int]:
        """Field → column index; a mapped or required column that is absent stops the file."""
        lowered = [" ".join(h.split()).lower() for h in header]
        found: dict[str, int] = {}
        for field, names in SYNONYMS.items():
            wanted = self.options.columns.get(field)
            candidates = (wanted.lower(),) if wanted else names
            index = next((lowered.index(n) for n in candidates if n in lowered), None)
            if index is None and (wanted or field == "text"):
                raise ParseError(
                    f"{source.name}: column {wanted or 'text'!r} (field {field}) is missing",
                    hint=f"columns are: {', '.join(header[:30])}; map it with "
                    f"`columns = {{{field} = \"...\"}}`")
            if index is not None and index not in found.values():
                found[field] = index
        return found

    def _date_columns(self) -> tuple[DateColumn, DateColumn, DateColumn]:
        """Readers of the received, response and closing dates of one file (one format
        each)."""
        tz = self.options.timezone
        return DateColumn(tz), DateColumn(tz), DateColumn(tz)

    def _item(self, record: dict[str, str], source: SourceFile, line: int,
              raw: Any, dates: tuple[DateColumn, DateColumn, DateColumn]) -> RawItem | Rejected:
        position = source.at(line)
        text = record.get("text", "")
        if not text:
            return Rejected(json.dumps(raw, ensure_ascii=False, default=str)[:2000], position,
                            f"{source.name}, line {line}: the complaint text is empty",
                            error_class="MissingValue")
        received = dates[0].parse(record.get("received", ""))
        responded = dates[1].parse(record.get("response_date", ""))
        closed = dates[2].parse(record.get("closed", ""))
        extra: dict[str, Any] = {"file": source.name, "line": line}
        for field in ("category", "status", "channel"):
            if record.get(field):
                extra["reported_channel" if field == "channel" else field] = record[field]
        if record.get("received") and received is None:
            extra["received_raw"] = record["received"]
        for name, value in (("response_date", responded), ("closed_date", closed)):
            raw_value = record.get("closed" if name == "closed_date" else name)
            if value is not None:
                extra[name] = value.isoformat()
            elif raw_value:
                extra[f"{name}_raw"] = raw_value
        # Closing a complaint answers it; a closed status dates the closing by the answer.
        answered = responded or closed
        if closed is None and record.get("status", "").strip().lower() in CLOSED_STATUSES:
            closed = responded
        if answered is not None and received is not None:
            extra["days_to_respond"] = round((answered - received).total_seconds() / 86400, 2)
        # The text of a complaint rarely changes on re-export, its handling does: hashing the
        # status and response date makes the runner update the item (and log the version).
        handling = [record.get("status", "").strip().lower(),
                    extra.get("response_date") or extra.get("response_date_raw", "")]
        if record.get("closed"):
            handling.append(extra.get("closed_date") or extra.get("closed_date_raw", ""))
        tracked = any(field in record for field in HANDLING)
        ident = record.get("id") or "row-" + hashlib.sha1(
            json.dumps(raw, ensure_ascii=False, default=str).encode()).hexdigest()[:20]
        return RawItem(
            external_id=ident, text=text, title=record.get("subject") or None,
            published_at=received, lang=self.options.lang, site=record.get("site") or None,
            department=record.get("department") or None, extra=extra,
            version_key="|".join(handling) if any(handling) else None,
            received_at=received if tracked else None,
            answered_at=answered if tracked else None, closed_at=closed if tracked else None,
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
