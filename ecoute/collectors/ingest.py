"""Services for items that come to ecoute instead of being collected: pushed records
(``POST /api/v1/ingest``), uploaded files and ``ecoute import``.

All of them end in the ordinary runner: pushed records are spooled to an NDJSON file that the
key's ``push`` source reads, and a file is read by running its source with ``path`` pointing at
it. So dedupe, redaction, quarantine and run records are the same as for collected items.
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

from ecoute.collectors.base import Rejected
from ecoute.collectors.limits import DEFAULT_LIMITS
from ecoute.collectors.kinds.push import PushCollector, push_entry
from ecoute.collectors.registry import get_collector
from ecoute.collectors.runner import RunReport
from ecoute.collectors.service import run_source
from ecoute.config.settings import Settings
from ecoute.errors import InvalidRequest, PayloadTooLarge, SourceExists, SourceNotFound, StoreError
from ecoute.store import sources as source_repo
from ecoute.store.db import session_scope
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


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def split_records(
    body: bytes, content_type: str | None, max_depth: int = DEFAULT_LIMITS.json_max_depth
) -> list[tuple[str, Any, str | None]]:
    """(line to spool, parsed value or None, why it is not JSON) per record of a JSON array or
    NDJSON body. Records nested over ``max_depth`` are kept for the push source to quarantine;
    an array nested past what the parser can read is refused whole."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"the body is not UTF-8 (byte {exc.start})") from exc
    ndjson = "ndjson" in (content_type or "") or "jsonl" in (content_type or "") \
        or not text.lstrip().startswith("[")
    records: list[tuple[str, Any, str | None]] = []
    if ndjson:
        for line in text.split("\n"):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
                records.append((json.dumps(value, ensure_ascii=False), value, None))
            except json.JSONDecodeError:
                records.append((line, None, "not JSON"))  # the push source quarantines it
            except RecursionError:
                records.append((line, None, f"nests arrays/objects more than {max_depth} "
                                "levels deep (ECOUTE_JSON_MAX_DEPTH)"))
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
        records = [(json.dumps(v, ensure_ascii=False), v, None) for v in values]
    if not records:
        raise InvalidRequest("the body holds no record")
    return records


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
    spool = settings.data_dir / "spool" / authority.slug / key_prefix
    try:
        with session.begin_nested():
            return source_repo.add_source(
                session, authority.id, name=name, kind=PushCollector.kind,
                options={"path": str(spool)}, schedule=PushCollector.default_schedule,
            ).id
    except (IntegrityError, SourceExists):
        found = session.scalar(query)
        if found is None:
            raise
        return found


def ingest_records(
    factory: sessionmaker[Session], settings: Settings, *, source_id: int, body: bytes,
    content_type: str | None,
) -> IngestResult:
    """Store pushed records through the runner; bad ones are quarantined and listed."""
    records = split_records(body, content_type, settings.json_max_depth)
    problems = []
    for index, (_line, value, not_json) in enumerate(records):
        if not_json is not None:
            problems.append(RecordProblem(index, f"record {index}: {not_json}"))
            continue
        entry = push_entry(value, f"record {index}", PushCollector.channel,
                           max_depth=settings.json_max_depth,
                           extra_max_bytes=settings.push_extra_max_bytes)
        if isinstance(entry, Rejected):
            problems.append(RecordProblem(index, entry.reason))
    with session_scope(factory) as session:
        spool = Path(source_repo.get_source(session, source_id).options["path"])
    spool.mkdir(parents=True, exist_ok=True)
    path = spool / f"ingest-{_stamp()}.ndjson"
    path.write_text("".join(line + "\n" for line, _value, _problem in records), encoding="utf-8")
    try:
        report = run_source(factory, settings, source_id, options_override={"path": str(path)})
    except OperationalError as exc:
        raise _not_stored(str(exc.orig).strip().split("\n")[0]) from exc
    finally:
        # Stored or not, the spool file has done its job: the caller learns the outcome and
        # retries on failure (external ids make retries idempotent).
        path.unlink(missing_ok=True)
    if report.status == RunStatus.FAILED:
        # Never a success answer for records that may not be stored: a client that checks
        # the HTTP status must see that it has to send them again.
        raise _not_stored(report.error or "the run failed")
    return IngestResult(source_id=source_id, report=report, received=len(records),
                        rejected=problems)


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
