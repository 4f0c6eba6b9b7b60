"""Runs one source: collect, dedupe, redact, persist, record health.

A run writes in batches, each batch one transaction holding its items, its quarantine rows,
the run's counters and the source's cursor as it stood after the batch's last item; so a crash
loses at most the batch being written and a rerun duplicates nothing. A dry run does all the
reading and deduping but writes nothing.

Call intervals (``CallInterval``, from phone-system exports) are figures, not feedback: they
skip classification and are upserted into ``CallStat`` in the same batch transaction, counted in
the same report (a corrected export counts as updated). A source's own figures
(``SourceFigures``, a page's average rating) go to ``SourceFigure``, never to the items.

Everything stored from a collector goes through redaction: text, title and every string of
``extra`` (raw fields kept for reference may hold the same phone number as the text).

The runner drives a run and records its outcome; the parts it drives live beside it:
:mod:`~ecoute.collectors.entries` (batches, normal form, content hash, sorting into new,
updated and duplicate), :mod:`~ecoute.collectors.batch_writer` (one batch's transaction and
its quarantine rows) and :mod:`~ecoute.collectors.run_report` (what a run reports).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.backoff import next_retry_at
from ecoute.collectors.base import CallInterval, CollectContext, RawItem, SourceFigures
from ecoute.collectors.batch_failures import database_reason
from ecoute.collectors.batch_writer import BatchWriter
from ecoute.collectors.entries import (
    Entry,
    batches,
    interruptible,
    normalised,
    repeats,
    sort_entries,
    sort_intervals,
)
from ecoute.collectors.http.client import HttpFetcher
from ecoute.collectors.limits import InputLimits
from ecoute.collectors.registry import get_collector, validate_options
from ecoute.collectors.run_report import RunReport, error_text
from ecoute.collectors.secret_options import scrub, source_secrets
from ecoute.config.settings import Settings
from ecoute.errors import EcouteError, RunInterrupted, StoreError
from ecoute.privacy import pseudonym, redact, redact_value
from ecoute.store import sources as source_repo
from ecoute.store.authorities import Places
from ecoute.store.db import session_scope
from ecoute.store.models import RunStatus, utcnow

log = logging.getLogger(__name__)


class SourceRunner:
    """Collects one source into the store (or, in a dry run, into a report)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        interrupt: Callable[[], None] | None = None,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.transport = transport
        #: Called between entries; raises an EcouteError to stop the run after the entries
        #: already read are persisted (wall-time limit, shutdown, lost lease).
        self.interrupt = interrupt
        #: Writes the batches of the run being made (its places are the source's).
        self._writer = BatchWriter(factory, settings, Places(0, create=False))

    def _fetcher(self) -> HttpFetcher:
        s = self.settings
        return HttpFetcher(
            timeout=s.http_timeout, connect_timeout=s.http_connect_timeout,
            max_bytes=s.http_max_bytes, user_agent=s.user_agent,
            allow_private=s.http_allow_private, max_redirects=s.http_max_redirects,
            retries=s.http_retries, backoff=s.http_backoff_seconds,
            max_retry_wait=s.http_max_retry_wait, host_interval=s.http_host_interval,
            transport=self.transport,
        )

    def run(
        self, source_id: int, *, dry_run: bool = False, limit: int | None = None,
        options_override: dict[str, Any] | None = None,
        entries: Iterable[Entry] | None = None,
    ) -> RunReport:
        """Collect ``source_id``; ``options_override`` replaces some of its options for this
        run only (an import or an upload points a file source's ``path`` at one file).

        ``entries`` are what the source's collector would have yielded, read by someone
        else (records pushed to the ingest API): the run stores them instead of collecting,
        with the same dedupe, redaction, quarantine and run record."""
        with session_scope(self.factory) as session:
            source = source_repo.get_source(session, source_id)
            name, kind = source.name, source.kind
            options = {**dict(source.options), **(options_override or {})}
            cursor, etag, last_modified = dict(source.cursor), source.etag, source.last_modified
            run_id = None if dry_run else source_repo.start_run(session, source_id).id
            self._writer = BatchWriter(self.factory, self.settings,
                                       Places(source.authority_id, create=not dry_run))
        report = RunReport(source=name, status=RunStatus.RUNNING, run_id=run_id)
        try:
            collector = get_collector(kind)(validate_options(kind, options))
        except EcouteError as exc:
            return self._finish(source_id, report, error=exc)
        with self._fetcher() as http:
            ctx = CollectContext(
                source_name=name, options=collector.options, settings=self.settings, http=http,
                cursor=cursor, etag=etag, last_modified=last_modified,
                logger=logging.getLogger(f"ecoute.collect.{kind}"),
                limits=InputLimits.from_settings(self.settings),
            )
            failure: BaseException | None = None
            read_so_far: set[str] = set()  # dry runs: ids and content hashes read earlier
            try:
                stream = collector.collect(ctx) if entries is None else iter(entries)
                # Imports and uploads have no worker watching their time: the run's own
                # deadline stops them (readers also check it between rows).
                stream = interruptible(stream, self.interrupt or ctx.limits.check_time)
                grouped = batches(stream, self.settings.collect_batch_size)
                for batch in grouped:
                    if dry_run:
                        self._preview(source_id, batch, report, collector.dedupe_by_content,
                                      read_so_far)
                        if limit is not None and len(report.preview) >= limit:
                            del report.preview[limit:]
                            grouped.close()
                            break
                    else:
                        self._persist(source_id, batch, report, ctx.cursor,
                                      collector.dedupe_by_content)
            except EcouteError as exc:
                failure = exc
            except OperationalError as exc:
                report.retryable = True
                failure = StoreError(
                    f"the database was busy or unreachable while storing the items "
                    f"({database_reason(exc)})",
                    hint="run it again: what was already stored is not stored twice",
                )
            except Exception as exc:  # a collector bug must not stop the other sources
                log.exception("collector %s crashed on source %s", kind, name)
                failure = exc
        return self._finish(source_id, report, error=failure, dry_run=dry_run, ctx=ctx)

    def store_entries(self, source_id: int, entries: list[RawItem | CallInterval]) -> RunReport:
        """Store entries read outside a run (a quarantined entry read again) as a run would:
        deduplicated, redacted, counted; the source's cursor and health are left alone."""
        with session_scope(self.factory) as session:
            source = source_repo.get_source(session, source_id)
            name, by_content = source.name, get_collector(source.kind).dedupe_by_content
            self._writer = BatchWriter(self.factory, self.settings, Places(source.authority_id))
        report = RunReport(source=name, status=RunStatus.SUCCESS)
        self._persist(source_id, list(entries), report, None, by_content)
        return report

    def _preview(
        self, source_id: int, batch: list[Entry], report: RunReport, by_content: bool,
        read_so_far: set[str],
    ) -> None:
        batch = normalised(batch, self.settings.text_max_chars)
        with session_scope(self.factory) as session:
            new, updates, dupes, rejected, expired = sort_entries(
                session, self.settings, source_id, batch, by_content)
            calls = sort_intervals(session, self.settings, self._writer.places, source_id,
                                   batch)
        # A dry run stores nothing, so an entry repeating one read earlier in the run is not
        # "already stored" (what 'sources test' calls duplicates), and one read in an earlier
        # batch must not be previewed twice.
        repeated = repeats(batch, by_content, read_so_far)
        fresh = [(raw, digest) for raw, digest in new if id(raw) not in repeated]
        dupes += len(new) - len(fresh)
        new = fresh
        report.repeated += len(repeated - {id(raw) for _item, raw, _digest in updates})
        report.fetched += len(batch) - len(rejected)
        report.duplicate += dupes + calls.changes.duplicate
        report.expired += expired
        report.preview.extend(_as_stored(raw, self.settings) for raw, _hash in new)
        report.preview.extend(calls.preview)
        report.preview.extend(e for e in batch if isinstance(e, SourceFigures))
        report.rejected.extend(rejected)
        report.quarantined += len(rejected)

    def _persist(
        self, source_id: int, batch: list[Entry], report: RunReport,
        cursor: dict[str, Any] | None, by_content: bool,
    ) -> None:
        self._writer.store(source_id, normalised(batch, self.settings.text_max_chars), report,
                           cursor, by_content)

    def _finish(
        self, source_id: int, report: RunReport, *, error: BaseException | None,
        dry_run: bool = False, ctx: CollectContext | None = None,
    ) -> RunReport:
        """Record the outcome; after a complete run, in the same transaction, the validators
        and cursor that say everything up to here is stored."""
        if ctx is not None:
            report.warnings = list(ctx.warnings)
        if report.expired:
            report.warnings.append(
                f"{report.expired} entries were published before this kind's retention period "
                "and were not stored; to import older feedback, lengthen retention_days "
                "(or retention_days_by_kind) first (docs/privacy.md)")
        if error is not None:
            report.status = RunStatus.FAILED
            report.error = error_text(error)
        else:
            report.status = RunStatus.PARTIAL if report.quarantined else RunStatus.SUCCESS
        if dry_run:
            if report.error:
                with session_scope(self.factory) as session:
                    source = source_repo.get_source(session, source_id)
                    report.error = self._error_as_stored(
                        scrub(report.error, source_secrets(source.kind, source.options)))
            return report
        # A run must not stay "running" because the database was busy for a moment.
        for attempt in range(FINISH_ATTEMPTS):
            try:
                self._record_outcome(source_id, report, error=error, ctx=ctx)
                break
            except OperationalError:
                if attempt == FINISH_ATTEMPTS - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
        return report

    def _record_outcome(
        self, source_id: int, report: RunReport, *, error: BaseException | None,
        ctx: CollectContext | None,
    ) -> None:
        if error is None and report.error is None:
            self._record_success(source_id, report, ctx)
            return
        with session_scope(self.factory) as session:
            source = source_repo.get_source(session, source_id)
            # What goes to CollectionRun.error and Source.last_error: an error may quote the
            # record or the server answer it failed on, with the same personal data as a text.
            report.error = self._error_as_stored(
                scrub(report.error, source_secrets(source.kind, source.options)))
            now = utcnow()
            source.last_run_at = now
            if error is None:
                for field, value in _healthy(now, ctx).items():
                    setattr(source, field, value)
            elif isinstance(error, RunInterrupted) and not error.source_fault:
                pass  # stopped from outside: the source's health is what it was
            else:
                source.last_error = report.error
                source.consecutive_failures += 1
                source.next_run_at = next_retry_at(
                    source.consecutive_failures, now, self.settings
                )
            if report.run_id is not None:
                source_repo.update_run(session, report.run_id, status=report.status,
                                       finished_at=now, error=report.error)

    def _record_success(
        self, source_id: int, report: RunReport, ctx: CollectContext | None
    ) -> None:
        """A complete run's outcome, in one statement per row: the source's health is reset
        whatever it was, so nothing of it needs reading first (every pushed batch ends so)."""
        now = utcnow()
        with session_scope(self.factory) as session:
            source_repo.update_source(session, source_id, **_healthy(now, ctx))
            if report.run_id is not None:
                source_repo.update_run(session, report.run_id, status=report.status,
                                       finished_at=now, error=None)

    def _error_as_stored(self, error: str | None) -> str | None:
        """A run's error with its personal data masked as in item texts (secrets are scrubbed
        first: redaction could otherwise cut a secret in two and let half of it through)."""
        return redact(error, self.settings.redact_patterns) if error else error


FINISH_ATTEMPTS = 4


def _healthy(now: datetime, ctx: CollectContext | None) -> dict[str, Any]:
    """The source fields a complete run sets, whichever way the row is written: health reset,
    and the cursor and validators that say everything up to here is stored (a validator the
    server did not send again keeps its stored value)."""
    health: dict[str, Any] = dict(last_run_at=now, last_success_at=now, last_error=None,
                                  consecutive_failures=0, next_run_at=None)
    if ctx is not None:
        health["cursor"] = dict(ctx.cursor)
        if ctx.new_etag:
            health["etag"] = ctx.new_etag
        if ctx.new_last_modified:
            health["last_modified"] = ctx.new_last_modified
    return health


def _as_stored(raw: RawItem, settings: Settings) -> RawItem:
    """A preview shows what would be stored: personal data masked, the author pseudonymised."""
    patterns = settings.redact_patterns
    return replace(raw, text=redact(raw.text, patterns),
                   title=redact(raw.title, patterns) if raw.title else None,
                   author=pseudonym(raw.author, settings.pseudonym_key),
                   extra=redact_value(raw.extra, patterns))
