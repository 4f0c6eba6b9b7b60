"""How survey tools lay out their exports: header rows, metadata columns, question keys.

Each export becomes a stream of :class:`Response` (one respondent's answers by column key) and
a table of :class:`Column` (key, question text, other names the user may map it by). Known
layouts: Qualtrics (3 header rows with ImportIds, or the legacy 2-row export), LimeSurvey
(codes or full question texts), KoboToolbox (CSV/XLSX with ``group/question`` headers, or the
submissions JSON with its form), Google Forms, and generic tables and JSON.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ecoute.collectors.base import Rejected
from ecoute.collectors.files.reading import Record, SourceFile

FORMATS = ("auto", "qualtrics", "qualtrics_legacy", "limesurvey", "kobo", "google_forms",
           "generic")

#: Columns that describe the response, not an answer: never free text.
METADATA = {
    # Qualtrics
    "startdate", "enddate", "status", "ipaddress", "progress", "duration (in seconds)",
    "finished", "recordeddate", "responseid", "recipientlastname", "recipientfirstname",
    "recipientemail", "externalreference", "externaldatareference", "locationlatitude",
    "locationlongitude", "locationaccuracy", "distributionchannel", "userlanguage",
    "responseset", "name", "emailaddress", "_recordid",
    # LimeSurvey (full and code headers)
    "response id", "id", "date submitted", "submitdate", "last page", "lastpage",
    "start language", "startlanguage", "seed", "date started", "startdate",
    "date last action", "datestamp", "ip address", "ipaddr", "referrer url", "refurl", "token",
    # KoboToolbox
    "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber",
    "username", "meta/instanceid", "meta/deprecatedid", "__version__",
    # Google Forms
    "timestamp", "horodateur", "marca temporal", "zeitstempel", "email address",
    "adresse e-mail", "score", "total score",
}
RESPONDENT_COLUMNS = ("_recordid", "responseid", "response id", "id", "_uuid",
                      "meta/instanceid", "_id")
DATE_COLUMNS = ("recordeddate", "enddate", "date submitted", "submitdate", "_submission_time",
                "end", "timestamp", "horodateur", "marca temporal", "zeitstempel", "date")
GOOGLE_FIRST = ("timestamp", "horodateur", "marca temporal", "zeitstempel", "marcação de hora")
HEADER_SCAN = 3


def norm(text: str) -> str:
    return " ".join(text.split()).lower()


def column_key(text: str) -> str:
    """A stable key short enough for an external id, even for a 2,000-character header."""
    flat = " ".join(text.split())
    if len(flat) <= 80:
        return flat
    return f"{flat[:40]}~{hashlib.sha1(flat.encode()).hexdigest()[:12]}"


@dataclass
class Column:
    key: str
    label: str
    names: set[str] = field(default_factory=set)  # normalized names that select this column
    kind: str | None = None  # "text", "yes/no" when the export says so (KoBo forms)

    @property
    def is_metadata(self) -> bool:
        return bool(self.names & METADATA) or self.key.startswith("_") or \
            bool(re.fullmatch(r"v\d+", self.key.lower()))


@dataclass
class Response:
    position: str
    line: int | str
    answers: dict[str, str]


@dataclass
class Layout:
    format: str
    columns: dict[str, Column]

    def find(self, name: str) -> Column | None:
        wanted = norm(name)
        for column in self.columns.values():
            if wanted == norm(column.key) or wanted in column.names:
                return column
        return None


def _qualtrics_import_id(cell: str) -> str | None:
    if not cell.startswith("{"):
        return None
    try:
        value = json.loads(cell)
    except json.JSONDecodeError:
        return None
    return value.get("ImportId") if isinstance(value, dict) else None


def detect_table_format(head: list[list[str]]) -> tuple[str, int]:
    """(format, number of header rows) from the first rows of a table."""
    first = [norm(c) for c in head[0]]
    if len(head) >= 3 and head[2] and all(_qualtrics_import_id(c) for c in head[2] if c):
        return "qualtrics", 3
    if len(head) >= 2 and first[:2] == ["v1", "v2"] and "responseid" in {norm(c) for c in head[1]}:
        return "qualtrics_legacy", 2
    if ("response id" in first or "id" in first) and (
        {"date submitted", "submitdate", "last page", "lastpage"} & set(first)
    ):
        return "limesurvey", 1
    if first and first[0] in GOOGLE_FIRST:
        return "google_forms", 1
    if {"_uuid", "_submission_time"} & set(first) or any("/" in c for c in first[:50]):
        return "kobo", 1
    return "generic", 1


def table_layout(fmt: str, head: list[list[str]]) -> Layout:
    """Columns of a table whose header rows are ``head`` (already cut to the format's count)."""
    columns: dict[str, Column] = {}
    width = max(len(row) for row in head)
    for index in range(width):
        cells = [row[index] if index < len(row) else "" for row in head]
        if fmt == "qualtrics":
            tag, text, raw_id = cells
            key, label = _qualtrics_import_id(raw_id) or tag, text or tag
            names = {norm(tag), norm(text), norm(key)}
        elif fmt == "qualtrics_legacy":
            tag, text = cells
            key, label, names = tag, text or tag, {norm(tag), norm(text)}
        else:
            header = cells[0]
            key, label, names = column_key(header), header, {norm(header)}
            if fmt == "kobo" and "/" in header:
                label = header.rsplit("/", 1)[1]
                names.add(norm(label))
        if not key.strip():
            key = f"column{index + 1}"
        base, n = key, 1
        while key in columns:  # repeated headers (LimeSurvey cuts long ones) stay distinct
            n += 1
            key = f"{base}#{n}"
        columns[key] = Column(key=key, label=" ".join(label.split()), names=names - {""})
    return Layout(format=fmt, columns=columns)


def table_responses(
    source: SourceFile, rows: Iterator[Record | Rejected], fmt: str
) -> tuple[Layout, Iterator[Response | Rejected]]:
    """The layout of a CSV/XLSX export and its responses, header rows consumed."""
    head: list[Record] = []
    early: list[Rejected] = []
    for row in rows:
        if isinstance(row, Rejected):
            early.append(row)
            continue
        head.append(row)
        if len(head) == HEADER_SCAN:
            break
    if not head:
        from ecoute.errors import ParseError

        raise ParseError(f"{source.name} holds no header row", hint="is it an empty export?")
    detected, header_rows = detect_table_format([r.cells for r in head])
    if fmt not in ("auto", detected):
        header_rows = {"qualtrics": 3, "qualtrics_legacy": 2}.get(fmt, 1)
        detected = fmt
    layout = table_layout(detected, [r.cells for r in head[:header_rows]])
    keys = list(layout.columns)

    def responses() -> Iterator[Response | Rejected]:
        yield from early
        for row in [*head[header_rows:], *rows]:
            if isinstance(row, Rejected):
                yield row
                continue
            if len(row.cells) > len(keys) and any(row.cells[len(keys):]):
                yield Rejected(json.dumps(row.cells)[:2000], source.at(row.line),
                               f"{source.name}, line {row.line}: {len(row.cells)} cells for "
                               f"{len(keys)} columns")
                continue
            answers = {k: v.strip() for k, v in zip(keys, row.cells) if v and v.strip()}
            yield Response(source.at(row.line), row.line, answers)

    return layout, responses()


# --- KoboToolbox and generic JSON ---------------------------------------------------------------

def _label(value: Any) -> str:
    if isinstance(value, list):  # translations: the first one is the form's default language
        value = next((v for v in value if v), "")
    return str(value or "")


def kobo_form_columns(content: dict[str, Any]) -> dict[str, Column]:
    """Columns described by a KoBo/XLSForm ``content``: text questions and yes/no selects."""
    choices: dict[str, set[str]] = {}
    for choice in content.get("choices", []):
        choices.setdefault(choice.get("list_name", ""), set()).add(str(choice.get("name")).lower())
    columns: dict[str, Column] = {}
    path: list[str] = []
    for question in content.get("survey", []):
        qtype, name = str(question.get("type", "")), question.get("name") or question.get("$autoname")
        if qtype in ("begin_group", "begin group", "begin_repeat", "begin repeat"):
            path.append(str(name))
            continue
        if qtype in ("end_group", "end group", "end_repeat", "end repeat"):
            path = path[:-1]
            continue
        if not name:
            continue
        key = "/".join([*path, str(name)])
        base_type, _, list_name = qtype.partition(" ")
        list_name = question.get("select_from_list_name") or list_name
        kind = None
        if base_type == "text":
            kind = "text"
        elif base_type == "select_one" and {"yes", "no"} <= choices.get(list_name, set()):
            kind = "yes/no"
        label = _label(question.get("label")) or str(name)
        columns[key] = Column(key=key, label=label, names={norm(key), norm(str(name)),
                                                           norm(label)}, kind=kind)
    return columns


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """KoBo submissions nest repeat groups as lists of dicts: ``rep[2]/rep/q`` keys."""
    flat: dict[str, str] = {}
    for key, value in record.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for index, entry in enumerate(value, start=1):
                flat.update(flatten(entry, f"{prefix}{key}[{index}]/"))
        elif isinstance(value, dict):
            continue  # _validation_status, _geolocation...: metadata, not answers
        elif value not in (None, "", []):
            flat[f"{prefix}{key}"] = value if isinstance(value, str) else json.dumps(value)
    return flat


def repeat_base(key: str) -> str:
    """``rep[2]/rep/q`` → ``rep/q``: the form column a repeated answer belongs to."""
    # Inner keys already carry their full path; drop the indexed prefixes before it.
    return key.rsplit("]/", 1)[1] if "]/" in key else key
