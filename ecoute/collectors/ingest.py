"""Services for items that come to ecoute instead of being collected: pushed records
(``POST /api/v1/ingest``), uploaded files and ``ecoute import``.

All of them end in the ordinary runner, so dedupe, redaction, quarantine and run records are
the same as for collected items: pushed records are read once, here, into the entries the
key's ``push`` source would have yielded, and the runner stores them; a file is read by
running its source with ``path`` pointing at it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.base import RawItem, Rejected
from ecoute.collectors.limits import DEFAULT_LIMITS
from ecoute.collectors.kinds.push import PushCollector, push_entry, record_item, valid_records
from ecoute.collectors.registry import get_collector, validate_options
from ecoute.collectors.run_report import RunReport
from ecoute.collectors.runner import SourceRunner
from ecoute.collectors.service import run_source
from ecoute.config.settings import Settings
from ecoute.errors import InvalidRequest, PayloadTooLarge, SourceExists, SourceNotFound, StoreError
from ecoute.store import sources as source_repo
from ecoute.store.db import session_scope
from ecoute.domain import Channel
from ecoute.store.models import Authority, RunStatus, Source


@dataclass
class RecordProblem:
    index: int
    reason: str


@dataclass
class IngestResult:
    source_id: int
    report: RunReport
    received: int
    rejected: list[RecordProblem] = field(default_factory=list)


@dataclass(frozen=True)
class PushedRecord:
    """One record of a pushed body: its JSON value, or what it was and why it is not one."""

    index: int
    value: Any = None
    #: The record as received (an NDJSON line that is not JSON), kept as evidence.
    received: str | None = None
    problem: str | None = None


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def _is_ndjson(content_type: str | None) -> bool:
    return "ndjson" in (content_type or "") or "jsonl" in (content_type or "")


def split_records(
    body: bytes, content_type: str | None, max_depth: int = DEFAULT_LIMITS.json_max_depth
) -> list[PushedRecord]:
    """The records of a JSON array or NDJSON body. An NDJSON line that is not JSON, or nests
    past what the parser reads, is a record with a problem (quarantined, the others stored);
    a JSON array that cannot be read is refused whole."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"the body is not UTF-8 (byte {exc.start})") from exc
    ndjson = _is_ndjson(content_type) or not text.lstrip().startswith("[")
    records: list[PushedRecord] = []
    if ndjson:
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            index = len(records)
            try:
                records.append(PushedRecord(index, json.loads(line)))
            except json.JSONDecodeError:
                records.append(PushedRecord(index, received=line,
                                            problem=f"record {index} (line {number}): not JSON"))
            except RecursionError:
                records.append(PushedRecord(
                    index, received=line, problem=f"record {index} (line {number}) nests "
                    f"arrays/objects more than {max_depth} levels deep (ECOUTE_JSON_MAX_DEPTH)"))
    else:
        try:
            values = json.loads(text)
        except RecursionError as exc:
            raise InvalidRequest(
                f"the body nests arrays/objects more than {max_depth} levels deep",
                hint="send records whose `extra` is flatter (ECOUTE_JSON_MAX_DEPTH)",
            ) from exc
        except json.JSONDecodeError as exc:
            raise InvalidRequest(
                f"the body is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                hint="send a JSON array of records, or NDJSON (one record per line)",
            ) from exc
        records = [PushedRecord(index, value) for index, value in enumerate(values)]
    if not records:
        raise InvalidRequest("the body holds no record")
    return records


def pushed_entries(
    records: Iterable[PushedRecord], settings: Settings, channel: Channel = PushCollector.channel,
) -> list[RawItem | Rejected]:
    """What the push source's collector yields for these records: an item per valid record,
    a rejection naming the field for the others."""
    entries: list[RawItem | Rejected] = []
    for record in records:
        position = f"record {record.index}"
        if record.problem is not None:
            received = (record.received or "").encode("utf-8", "surrogatepass")
            entries.append(Rejected(received, position, record.problem))
            continue
        entries.append(push_entry(record.value, position, channel,
                                  max_depth=settings.json_max_depth,
                                  extra_max_bytes=settings.push_extra_max_bytes))
    return entries


def push_source_id(session: Session, settings: Settings, authority: Authority,
                   key_prefix: str) -> int:
    """The push source of this key in this authority, created on first use.

    The first batches of a new key often come at once: when another request creates the
    source between our look-up and our insert, its source is used (the savepoint keeps this
    request's transaction usable after the unique constraint refused the second one).
    """
    name = f"push {key_prefix}"
    query = select(Source.id).where(Source.authority_id == authority.id, Source.name == name)
    found = session.scalar(query)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            return source_repo.add_source(
                session, authority.id, name=name, kind=PushCollector.kind, options={},
                schedule=PushCollector.default_schedule,
            ).id
    except (IntegrityError, SourceExists):
        found = session.scalar(query)
        if found is None:
            raise
        return found


def push_channel(session: Session, source_id: int) -> Channel:
    """The channel of the items a push source stores: its ``channel`` option, or the kind's."""
    options = validate_options(*source_repo.kind_and_options(session, source_id))
    return options.channel if isinstance(options, PushCollector.Options) \
        else PushCollector.channel


def ingest_records(
    factory: sessionmaker[Session], settings: Settings, *, source_id: int, body: bytes,
    content_type: str | None, channel: Channel | None = None,
) -> IngestResult:
    """Store pushed records through the runner; bad ones are quarantined and listed.

    ``channel`` is the source's (:func:`push_channel`), when the caller read it already."""
    if channel is None:
        with session_scope(factory) as session:
            channel = push_channel(session, source_id)
    entries = _entries(body, content_type, settings, channel)
    try:
        report = SourceRunner(factory, settings).run(source_id, entries=entries)
    except OperationalError as exc:
        raise _not_stored(str(exc.orig).strip().split("\n")[0]) from exc
    if report.status == RunStatus.FAILED:
        # Never a success answer for records that may not be stored: a client that checks
        # the HTTP status must see that it has to send them again (external ids make that
        # safe).
        raise _not_stored(report.error or "the run failed")
    return IngestResult(source_id=source_id, report=report, received=len(entries),
                        rejected=_problems(report, entries))


def _entries(
    body: bytes, content_type: str | None, settings: Settings, channel: Channel
) -> list[RawItem | Rejected]:
    """The body read into the push source's entries. The validated records are dropped on
    return: kept for the run, a thousand of them would be walked again by every garbage
    collection the run's own objects set off."""
    valid = None if _is_ndjson(content_type) else valid_records(
        body, max_depth=settings.json_max_depth, extra_max_bytes=settings.push_extra_max_bytes)
    if valid is not None:
        return [record_item(record, channel) for record in valid]
    return pushed_entries(split_records(body, content_type, settings.json_max_depth), settings,
                          channel)


def _problems(report: RunReport, entries: list[RawItem | Rejected]) -> list[RecordProblem]:
    """The run's rejections by record index: those of the records themselves (at ``record
    N``) and those of items the runner refused (at their external id: an empty text)."""
    if not report.rejected:
        return []
    index = {f"record {n}": n for n in range(len(entries))}
    for n, entry in enumerate(entries):
        if isinstance(entry, RawItem):
            index.setdefault(entry.external_id, n)
    problems = [RecordProblem(index[r.position], r.reason) for r in report.rejected
                if r.position in index]
    return sorted(problems, key=lambda p: p.index)


def _not_stored(reason: str) -> StoreError:
    return StoreError(
        f"the records could not all be stored: {reason}",
        hint="send the same batch again in a few seconds; records already stored are not "
        "stored twice",
    )


def file_source(session: Session, source_id: int, authority_id: int | None = None) -> Source:
    """A source that reads files (its options have a ``path``), of this authority."""
    source = source_repo.get_source(session, source_id)
    if authority_id is not None and source.authority_id != authority_id:
        raise SourceNotFound(f"no source with id {source_id}")
    if "path" not in get_collector(source.kind).Options.model_fields:
        raise InvalidRequest(
            f"source {source.name!r} ({source.kind}) does not read files",
            hint="files go to documents, survey_file, complaint_log, mailbox, push... sources",
        )
    return source


def run_on_file(
    factory: sessionmaker[Session], settings: Settings, source_id: int, path: Path
) -> RunReport:
    """Run a file source on one file (``ecoute import``, uploads)."""
    if not path.is_file():
        raise InvalidRequest(f"{path}: no such file")
    with session_scope(factory) as session:
        file_source(session, source_id)
    try:
        report = run_source(factory, settings, source_id, options_override={"path": str(path)})
    except OperationalError as exc:
        raise StoreError(f"{path.name}: the database is busy or unreachable",
                         hint="import the file again in a few seconds") from exc
    if report.retryable:
        raise StoreError(f"{path.name}: {report.error}",
                         hint="import the file again in a few seconds; what was already "
                         "stored is not stored twice")
    return report


SAFE_NAME = re.compile(r"[^\w.\- ]+")


def save_upload(
    settings: Settings, source: Source, authority_slug: str, filename: str | None,
    chunks: Iterable[bytes],
) -> Path:
    """Write an uploaded file under the data dir, refusing it past ``upload_max_bytes``."""
    name = SAFE_NAME.sub("_", Path(filename or "upload").name).strip(" .") or "upload"
    # A folder per upload keeps the file's own name, which collectors read (a meeting date,
    # an extension), and keeps two uploads of the same name apart.
    folder = settings.data_dir / "uploads" / authority_slug / f"source-{source.id}" / _stamp()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    size = 0
    try:
        with path.open("wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > settings.upload_max_bytes:
                    raise PayloadTooLarge(
                        f"{name}: larger than {settings.upload_max_bytes} bytes",
                        hint="raise ECOUTE_UPLOAD_MAX_BYTES, or split the file",
                    )
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        folder.rmdir()
        raise
    return path
