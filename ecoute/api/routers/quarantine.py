"""Quarantine entries: read them (any reading key of the authority), retry or dismiss them
(officer or admin keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from ecoute.api.deps import AuthorityDep, OfficerKey, SessionDep, SettingsDep
from ecoute.api.schemas import (
    COMMON_ERRORS,
    MAX_ID,
    QuarantineOut,
    QuarantinePage,
    RetryOut,
    error_responses,
)
from ecoute.collectors.quarantine import dismiss_entry, retry_entry
from ecoute.store.models import ApiKey, Quarantine
from ecoute.store.quarantine import QuarantineFilters, get_entry, list_entries
from ecoute.store.sources import get_source

router = APIRouter(tags=["quarantine"], responses=COMMON_ERRORS)
EntryId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the quarantine entry")]


def _view(entry: Quarantine, source: str) -> QuarantineOut:
    return QuarantineOut(
        id=entry.id, source_id=entry.source_id, source=source, run_id=entry.run_id,
        position=entry.position, error_class=entry.error_class, message=entry.message,
        created_at=entry.created_at, resolved_at=entry.resolved_at,
    )


@router.get("/quarantine", response_model=QuarantinePage)
def get_quarantine(
    session: SessionDep,
    authority: AuthorityDep,
    source_id: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                           description="Only this source's entries")] = None,
    resolved: Annotated[bool | None, Query(description="false (default): waiting; true: "
                                           "retried or dismissed; empty: both")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> QuarantinePage:
    """What collection could not store, oldest first, without the payloads."""
    filters = QuarantineFilters(authority_id=authority.id, source_id=source_id,
                                resolved=resolved)
    entries, total = list_entries(session, filters, limit=limit, offset=offset)
    return QuarantinePage(entries=[_view(e, name) for e, name in entries], total=total)


def _scope(key: ApiKey) -> int | None:
    """The authority a key may act on; None for an installation-wide key."""
    return key.authority_id


@router.post("/quarantine/{entry_id}/retry", response_model=RetryOut,
             responses=error_responses(404, 409))
async def retry_quarantined(entry_id: EntryId, request: Request, settings: SettingsDep,
                            key: OfficerKey) -> RetryOut:
    """Read the entry again with its source's current options; stored, it leaves quarantine."""
    factory = request.app.state.session_factory
    result = await run_in_threadpool(retry_entry, factory, settings, entry_id,
                                     authority_id=_scope(key))
    return RetryOut(entry_id=result.entry_id, resolved=result.resolved, new=result.new,
                    duplicate=result.duplicate, updated=result.updated, reason=result.reason)


@router.post("/quarantine/{entry_id}/dismiss", response_model=QuarantineOut,
             responses=error_responses(404))
def dismiss_quarantined(entry_id: EntryId, session: SessionDep, key: OfficerKey) -> QuarantineOut:
    """Mark the entry as looked at and not worth keeping."""
    entry = dismiss_entry(session, get_entry(session, entry_id, _scope(key)))
    return _view(entry, get_source(session, entry.source_id).name)


