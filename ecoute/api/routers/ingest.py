"""Items pushed to ecoute: records (``POST /ingest``) and files (``POST /sources/{id}/upload``).

Both need an ``ingest`` or ``admin`` key and end in the ordinary collection runner.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, BinaryIO

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from ecoute.api.deps import AuthorityQuery, IngestKey, SettingsDep, scoped_authority
from ecoute.api.schemas import (
    COMMON_ERRORS,
    MAX_ID,
    IngestOut,
    RecordProblemOut,
    RunOut,
    error_responses,
)
from ecoute.collectors.ingest import (
    file_source,
    ingest_records,
    push_channel,
    push_source_id,
    run_on_file,
    save_upload,
)
from ecoute.collectors.run_report import RunReport
from ecoute.errors import PayloadTooLarge
from ecoute.store.db import session_scope

router = APIRouter(tags=["ingest"], responses=COMMON_ERRORS)


def _run_out(source_id: int, report: RunReport) -> RunOut:
    return RunOut(
        source_id=source_id, source=report.source, run_id=report.run_id,
        status=str(report.status), fetched=report.fetched, new=report.new,
        duplicate=report.duplicate, updated=report.updated, quarantined=report.quarantined,
        error=report.error, warnings=report.warnings,
    )


#: The body as the OpenAPI schema declares it (the endpoint reads the raw stream itself, to
#: bound it and to accept NDJSON). ``PushRecord`` is added to the components by
#: :func:`ecoute.api.openapi.install_openapi`.
_INGEST_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "array", "minItems": 1,
                                    "items": {"$ref": "#/components/schemas/PushRecord"}}},
    "application/x-ndjson": {"schema": {
        "type": "string", "description": "One PushRecord as JSON per line"}},
}}}


# Sizes are checked while the body arrives (ecoute.api.body_limits), before these run.
@router.post("/ingest", response_model=IngestOut, openapi_extra=_INGEST_BODY,
             responses=error_responses(413))
async def ingest(
    request: Request, key: IngestKey, settings: SettingsDep, authority: AuthorityQuery = None,
) -> IngestOut:
    """Store records pushed as a JSON array or NDJSON (`Content-Type: application/x-ndjson`).

    Each record: `external_id` and `text` (required), `title`, `url`, `author`,
    `published_at`, `lang`, `channel`, `rating_value`, `rating_scale`, `site`, `department`,
    `extra`. Pushing an external id again updates the item or counts as a duplicate. Bad
    records are quarantined and listed in `rejected`; the others are stored. When the records
    could not be stored (the database busy or unreachable) the answer is 503 with
    `Retry-After`: send the same batch again, external ids make that safe.
    """
    limit = settings.ingest_max_bytes
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes",
                                  hint="send smaller batches, or raise ECOUTE_INGEST_MAX_BYTES")
    factory = request.app.state.writer_factory

    def work() -> IngestOut:
        with session_scope(factory) as session:
            owner = scoped_authority(session, settings, key, authority)
            source_id = push_source_id(session, settings, owner, key.prefix)
            channel = push_channel(session, source_id)
        result = ingest_records(factory, settings, source_id=source_id, body=bytes(body),
                                content_type=request.headers.get("content-type"),
                                channel=channel)
        return IngestOut(
            received=result.received, run=_run_out(source_id, result.report),
            rejected=[RecordProblemOut(index=p.index, reason=p.reason) for p in result.rejected],
        )

    return await run_in_threadpool(work)


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(1 << 20):
        yield chunk


@router.post("/sources/{source_id}/upload", response_model=RunOut,
             responses=error_responses(404, 413))
def upload(
    source_id: Annotated[int, Path(ge=1, le=MAX_ID, description="Id of a file source")],
    request: Request, key: IngestKey, settings: SettingsDep,
    file: Annotated[UploadFile, File(description="The export, document or mailbox file")],
    authority: AuthorityQuery = None,
    keep: Annotated[bool, Query(description="Keep the file under the data dir after the run "
                                "(default: yes, for audit)")] = True,
) -> RunOut:
    """Save a file for a file-reading source and run the source on it."""
    factory = request.app.state.session_factory
    with session_scope(factory) as session:
        owner = scoped_authority(session, settings, key, authority)
        source = file_source(session, source_id, owner.id)
        path = save_upload(settings, source, owner.slug, file.filename, _chunks(file.file))
    try:
        report = run_on_file(request.app.state.writer_factory, settings, source_id, path)
    finally:
        if not keep:
            path.unlink(missing_ok=True)
    return _run_out(source_id, report)
