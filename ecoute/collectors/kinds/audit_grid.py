"""Mystery-visit and mystery-call audit grids: one item per criterion scored in an audit.

A grid is ``wide`` (one row per audit, one column per criterion, optional
``<criterion> - commentaire`` columns and a general ``commentaire`` column) or ``long`` (one row
per audit and criterion). Each criterion is mapped to a service-quality determinant in the
options. A score is a fact, not an opinion to guess: its item carries the score's polarity as a
:class:`StatedVerdict` (stored as audit tags of the criterion's determinant, never read by a
classifier). The auditor's free-text comments are opinions: each becomes an item of its own,
classified like any other feedback.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Literal, TypedDict

from pydantic import Field, field_validator

from ecoute.collectors.base import CollectContext, Collector, RawItem, Rejected, StatedVerdict
from ecoute.collectors.files.reading import (
    FileSourceOptions,
    Record,
    SourceFile,
    collect_files,
    parse_datetime,
    read_rows,
)
from ecoute.collectors.ratings import parse_rating, rating_norm
from ecoute.errors import ParseError
from ecoute.domain import RATING_SCALES, Channel, Polarity, nps_category

SYNONYMS: dict[str, tuple[str, ...]] = {
    "audit_id": ("audit", "id", "visite", "visit", "numéro", "numero", "audit id", "n°"),
    "date": ("date", "date de visite", "date de l'appel", "date visite", "visit date"),
    "channel": ("canal", "channel", "mode", "type"),
    "site": ("site", "lieu", "agence", "location"),
    "department": ("service", "department", "direction"),
    "criterion": ("critère", "critere", "criterion", "question", "item"),
    "score": ("note", "score", "résultat", "resultat", "conforme", "valeur", "value"),
    "comment": ("commentaire", "comment", "observation", "remarque", "verbatim"),
}
COMMENT_SUFFIXES = (" - commentaire", " commentaire", " - comment", " comment", " (commentaire)")


class AuditGridCollector(Collector):
    """Mystery-visit and mystery-call audit grids (CSV/XLSX): each score tags its criterion's
    determinant with the score's polarity; the auditors' comments are classified."""

    kind = "audit_grid"
    channel = Channel.AUDIT
    default_schedule = "every 1 day"
    dedupe_by_content = False  # the same criterion scored the same way in two audits

    class Options(FileSourceOptions):
        criteria: dict[str, str] = Field(
            description="Each criterion (column header in a wide grid, value of the criterion "
            "column in a long one) and the determinant it measures, e.g. "
            "`{\"Délai d'attente\" = \"waiting_time\", \"Amabilité\" = \"courtesy\"}`.")
        layout: Literal["wide", "long"] = Field(
            "wide", description="`wide`: one row per audit, one column per criterion "
            "(optional `<criterion> - commentaire` columns and a general `commentaire` column); "
            "`long`: one row per audit and criterion.")
        scale: str = Field(
            "yes/no", description=f"Scale of the scores: {', '.join(RATING_SCALES)}.")
        columns: dict[str, str] = Field(
            default_factory=dict, description="Header of the audit_id, date, channel, site, "
            "department (and, in a long grid, criterion, score, comment) columns when not "
            "their usual French/English names.")

        @field_validator("criteria")
        @classmethod
        def _some_criteria(cls, value: dict[str, str]) -> dict[str, str]:
            if not value:
                raise ValueError("map at least one criterion to a determinant")
            return value

        @field_validator("scale")
        @classmethod
        def _known_scale(cls, value: str) -> str:
            if value not in RATING_SCALES:
                raise ValueError(f"unknown scale {value!r} (one of {', '.join(RATING_SCALES)})")
            return value

    options: Options

    def collect(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        return collect_files(ctx, self.options, self._read)

    def _read(self, source: SourceFile) -> Iterator[RawItem | Rejected]:
        header: list[str] | None = None
        for row in read_rows(source, self.options):
            if isinstance(row, Rejected):
                yield row
            elif header is None:
                header = row.cells
                fields, criteria = self._columns(header, source)
            else:
                yield from self._row(row, fields, criteria, source)
        if header is None:
            raise ParseError(f"{source.name} is empty: no header row")

    def _columns(self, header: list[str], source: SourceFile
                 ) -> tuple[dict[str, int], dict[str, tuple[int, int | None]]]:
        lowered = [" ".join(h.split()).lower() for h in header]
        wanted = ["criterion", "score"] if self.options.layout == "long" else []

        def index(name: str) -> int | None:
            return lowered.index(name.lower()) if name.lower() in lowered else None

        def missing(name: str) -> ParseError:
            return ParseError(f"{source.name}: column {name!r} is missing",
                              hint=f"columns are: {', '.join(header[:30])}")

        fields: dict[str, int] = {}
        for field, names in SYNONYMS.items():
            mapped = self.options.columns.get(field)
            found = index(mapped) if mapped else next(
                (i for n in names if (i := index(n)) is not None), None)
            if found is None and (mapped or field in wanted):
                raise missing(mapped or field)
            if found is not None:
                fields[field] = found
        criteria: dict[str, tuple[int, int | None]] = {}
        if self.options.layout == "wide":
            for criterion in self.options.criteria:
                column = index(" ".join(criterion.split()))
                if column is None:
                    raise missing(criterion)
                comment = next((i for s in COMMENT_SUFFIXES
                                if (i := index(criterion + s)) is not None), None)
                criteria[criterion] = (column, comment)
        return fields, criteria

    def _row(self, row: Record, fields: dict[str, int],
             criteria: dict[str, tuple[int, int | None]], source: SourceFile
             ) -> Iterator[RawItem | Rejected]:
        def cell(i: int | None) -> str:
            return row.cells[i].strip() if i is not None and i < len(row.cells) else ""

        audit = cell(fields.get("audit_id")) or "row-" + hashlib.sha1(
            json.dumps(row.cells, ensure_ascii=False).encode()).hexdigest()[:16]
        if self.options.layout == "long":
            scored = [(cell(fields["criterion"]), cell(fields["score"]),
                       cell(fields.get("comment")))]
        else:
            scored = [(name, cell(col), cell(comment)) for name, (col, comment)
                      in criteria.items()]
        base: _Shared = {
            "published_at": parse_datetime(cell(fields.get("date")), self.options.timezone),
            "site": cell(fields.get("site")) or None,
            "department": cell(fields.get("department")) or None,
            "channel": Channel.AUDIT,
        }
        about = {"audit_id": audit, "audit_channel": cell(fields.get("channel")) or None,
                 "file": source.name, "line": row.line}
        for criterion, raw, comment in scored:
            if not raw and not comment:
                continue  # criterion not assessed in this audit
            value = parse_rating(raw, self.options.scale) if raw else None
            if raw and value is None:
                yield Rejected(json.dumps(row.cells, ensure_ascii=False)[:2000],
                               source.at(row.line), f"{source.name}, line {row.line}: score "
                               f"{raw!r} of {criterion!r} is not on the {self.options.scale} "
                               "scale", error_class="InvalidScore")
                continue
            determinant = self.options.criteria.get(criterion)
            facts = {**about, "criterion": criterion, "determinant": determinant}
            if value is not None:
                yield RawItem(
                    external_id=f"{audit}:{criterion}"[:500], text=f"{criterion} : {raw}",
                    rating_value=value, rating_scale=self.options.scale,
                    rating_norm=rating_norm(value, self.options.scale),
                    verdict=StatedVerdict(score_polarity(value, self.options.scale),
                                          (determinant,) if determinant else ()),
                    # A corrected score is an update of the audit, not a duplicate.
                    extra={**facts, "score_raw": raw, "comment": comment or None},
                    version_key=raw,
                    **base,
                )
            if comment:
                yield RawItem(external_id=f"{audit}:{criterion}:comment"[:500], text=comment,
                              title=criterion, extra={**facts, "record": "comment"}, **base)
        general = cell(fields.get("comment")) if self.options.layout == "wide" else ""
        if general:
            yield RawItem(external_id=f"{audit}:comment"[:500], text=general,
                          extra={**about, "record": "comment"}, **base)



class _Shared(TypedDict):
    """The fields every item of one audit row shares."""

    published_at: datetime | None
    site: str | None
    department: str | None
    channel: Channel


def score_polarity(value: float, scale: str) -> Polarity:
    """A score's verdict: above the middle of its scale positive, below negative (NPS: its
    promoters, passives and detractors)."""
    if scale == "nps":
        return {"promoter": Polarity.POSITIVE, "passive": Polarity.NEUTRAL}.get(
            nps_category(value), Polarity.NEGATIVE)
    middle = rating_norm(value, scale) - 0.5
    return Polarity.POSITIVE if middle > 0 else Polarity.NEGATIVE if middle < 0 else (
        Polarity.NEUTRAL)
