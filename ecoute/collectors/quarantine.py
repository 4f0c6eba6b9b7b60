"""Services for quarantine entries: read one again through its source's collector, or
dismiss it. Used by ``ecoute quarantine`` and the API.

A retry re-reads the payload kept in quarantine with the source's options as they are now (a
corrected encoding or column mapping) and hands what it reads to the runner, which stores it
as a run would (deduplicated, redacted). Only an entry read without a new rejection is
resolved; one still unreadable keeps waiting, with the new reason. The item is stored in one
transaction and the entry resolved in the next: should the process stop in between, retrying
again finds the item already stored (a duplicate) and only resolves the entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.base import CallInterval, RawItem, Rejected
from ecoute.collectors.registry import get_collector, validate_options
from ecoute.collectors.runner import SourceRunner
from ecoute.config.settings import Settings
from ecoute.errors import EcouteError, NotRetryable, SourceRemoved
from ecoute.store import quarantine as quarantine_repo
from ecoute.store import sources as source_repo
from ecoute.store.db import session_scope
from ecoute.store.models import Quarantine, utcnow


@dataclass
class RetryResult:
    entry_id: int
    resolved: bool
    new: int = 0
    duplicate: int = 0
    updated: int = 0
    #: Why the entry is still in quarantine.
    reason: str | None = None


def retry_entry(
    factory: sessionmaker[Session], settings: Settings, entry_id: int,
    *, authority_id: int | None = None,
) -> RetryResult:
    """Read one entry again; raises NotRetryable when its collector cannot."""
    with session_scope(factory) as session:
        entry = quarantine_repo.get_entry(session, entry_id, authority_id)
        if entry.resolved_at is not None:
            raise NotRetryable(f"quarantine entry {entry_id} is already resolved")
        source = source_repo.get_source(session, entry.source_id)
        if source.removed_at is not None:
            raise SourceRemoved(f"the source of quarantine entry {entry_id} was removed",
                                hint="dismiss the entry")
        source_id, kind, options = source.id, source.kind, dict(source.options)
        payload = entry.payload_bytes if entry.payload_bytes is not None else \
            entry.payload_text or ""
        position = entry.position or ""
    collector = get_collector(kind)(validate_options(kind, options))
    try:
        entries = list(collector.reread(payload, position))
    except NotRetryable:
        raise
    except EcouteError as exc:
        return _still_waiting(factory, entry_id, str(exc), exc.name)
    rejected = [e for e in entries if isinstance(e, Rejected)]
    if rejected:
        return _still_waiting(factory, entry_id, rejected[0].reason, rejected[0].error_class)
    readable = [e for e in entries if isinstance(e, RawItem | CallInterval)]
    report = SourceRunner(factory, settings).store_entries(source_id, readable)
    with session_scope(factory) as session:
        resolved = quarantine_repo.get_entry(session, entry_id)
        resolved.resolved_at = utcnow()
    return RetryResult(entry_id, True, new=report.new, duplicate=report.duplicate,
                       updated=report.updated)


def _still_waiting(factory: sessionmaker[Session], entry_id: int, reason: str,
                   error_class: str) -> RetryResult:
    with session_scope(factory) as session:
        entry = quarantine_repo.get_entry(session, entry_id)
        entry.message, entry.error_class = reason, error_class[:100]
    return RetryResult(entry_id, False, reason=reason)


def retry_source(
    factory: sessionmaker[Session], settings: Settings, source_id: int
) -> list[RetryResult]:
    """Read every waiting entry of a source again; one that cannot be is reported, not
    raised, so that the others are still tried."""
    with session_scope(factory) as session:
        ids = quarantine_repo.unresolved_ids(session, source_id)
    results = []
    for entry_id in ids:
        try:
            results.append(retry_entry(factory, settings, entry_id))
        except NotRetryable as exc:
            results.append(RetryResult(entry_id, False, reason=str(exc)))
    return results


def dismiss_entry(session: Session, entry: Quarantine) -> Quarantine:
    """Someone looked at the entry and decided it holds nothing to keep."""
    if entry.resolved_at is None:
        entry.resolved_at = utcnow()
    return entry
