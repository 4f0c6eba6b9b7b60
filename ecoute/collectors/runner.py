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
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

import httpx
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.base import (
    CallInterval,
    CollectContext,
    RawItem,
    Rejected,
    SourceFigures,
)
from ecoute.collectors.batch_failures import (
    counted_on_commit,
    database_reason,
    refusal_class,
    refused_payload,
    rounds_by_version,
)
from ecoute.collectors.backoff import next_retry_at
from ecoute.collectors.http.client import HttpFetcher
from ecoute.collectors.limits import InputLimits
from ecoute.collectors.purge_guard import PurgeGuard, Refusal
from ecoute.collectors.ratings import normalized_rating
from ecoute.collectors.registry import get_collector, validate_options
from ecoute.collectors.secret_options import scrub, source_secrets
from ecoute.config.settings import Settings
from ecoute.errors import EcouteError, RunInterrupted, StoreError
from ecoute.privacy import pseudonym, redact, redact_payload, redact_value
from ecoute.store import call_stats as call_repo
from ecoute.store import items as item_repo
from ecoute.store import source_figures as figure_repo
from ecoute.store import sources as source_repo
from ecoute.store.authorities import Places
from ecoute.store.db import session_scope
from ecoute.store.items import ItemChange
from ecoute.store.models import CollectionRun, Item, RunStatus, Source, utcnow
from ecoute.store.taggings import record_verdicts
from ecoute.store.text_normalise import normalise_record

log = logging.getLogger(__name__)

#: What a collector yields, as the runner batches it.
Entry = RawItem | CallInterval | SourceFigures | Rejected


@dataclass
class RunReport:
    source: str
    status: RunStatus
    run_id: int | None = None
    fetched: int = 0
    new: int = 0
    duplicate: int = 0
    updated: int = 0
    quarantined: int = 0
    error: str | None = None
    #: The run failed because the database was busy or unreachable: the same run later
    #: stores what this one could not (the API answers 503 with Retry-After).
    retryable: bool = False
    #: Dry runs only: what would have been stored, redacted as it would be stored.
    preview: list[RawItem | CallInterval | SourceFigures] = field(default_factory=list)
    #: What went (in a dry run: would have gone) to quarantine; in a real run without the
    #: payloads, which are in the quarantine table.
    rejected: list[Rejected] = field(default_factory=list)
    #: Things the user should know although the run did not fail (see CollectContext.warn).
    warnings: list[str] = field(default_factory=list)
    #: Dry runs only: of ``duplicate``, the entries that repeat one read earlier in the same
    #: run (a republished post, a boost and its original): nothing was stored before them.
    repeated: int = 0
    #: Of ``duplicate``, the new entries published before their kind's retention period
    #: (docs/privacy.md): not stored, the next purge would remove them.
    expired: int = 0


def content_hash(raw: RawItem) -> str:
    """Hash of what makes two items the same feedback, whatever their external ids.

    A collector whose items change without their text changing (a service request whose
    status moves) puts what changed in ``version_key``, which is hashed too.
    """
    published = raw.published_at.date().isoformat() if raw.published_at else ""
    basis = "\x1f".join(
        [" ".join((raw.title or "").lower().split()), " ".join(raw.text.lower().split()),
         (raw.author or "").lower().strip(), published]
    )
    if raw.version_key:
        basis += "\x1f" + raw.version_key
    return hashlib.sha256(basis.encode()).hexdigest()


class _Sorted(NamedTuple):
    new: list[tuple[RawItem, str]]
    updates: list[tuple[Item, RawItem, str]]
    duplicate: int
    rejected: list[Rejected]
    expired: int


@dataclass
class _IntervalBatch:
    changes: call_repo.IntervalChanges = field(
        default_factory=lambda: call_repo.IntervalChanges([], [], 0))
    preview: list[CallInterval] = field(default_factory=list)


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
        #: The sites and departments named by the source being run, looked up once per run.
        self._places = Places(0, create=False)

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
            self._places = Places(source.authority_id, create=not dry_run)
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
                stream = _interruptible(stream, self.interrupt or ctx.limits.check_time)
                batches = _batches(stream, self.settings.collect_batch_size)
                for batch in batches:
                    if dry_run:
                        self._preview(source_id, batch, report, collector.dedupe_by_content,
                                      read_so_far)
                        if limit is not None and len(report.preview) >= limit:
                            del report.preview[limit:]
                            batches.close()
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
            self._places = Places(source.authority_id)
        report = RunReport(source=name, status=RunStatus.SUCCESS)
        self._persist(source_id, list(entries), report, None, by_content)
        return report

    def _preview(
        self, source_id: int, batch: list[Entry], report: RunReport, by_content: bool,
        read_so_far: set[str],
    ) -> None:
        batch = self._normalised(batch)
        with session_scope(self.factory) as session:
            new, updates, dupes, rejected, expired = self._sort_entries(
                session, source_id, batch, by_content)
            calls = self._sorted_intervals(session, source_id, batch)
        # A dry run stores nothing, so an entry repeating one read earlier in the run is not
        # "already stored" (what 'sources test' calls duplicates), and one read in an earlier
        # batch must not be previewed twice.
        repeats = _repeats(batch, by_content, read_so_far)
        fresh = [(raw, digest) for raw, digest in new if id(raw) not in repeats]
        dupes += len(new) - len(fresh)
        new = fresh
        report.repeated += len(repeats - {id(raw) for _item, raw, _digest in updates})
        report.fetched += len(batch) - len(rejected)
        report.duplicate += dupes + calls.changes.duplicate
        report.expired += expired
        report.preview.extend(_as_stored(raw, self.settings) for raw, _hash in new)
        report.preview.extend(calls.preview)
        report.preview.extend(e for e in batch if isinstance(e, SourceFigures))
        report.rejected.extend(rejected)
        report.quarantined += len(rejected)

    def _sort_entries(
        self, session: Session, source_id: int, batch: list[Entry], by_content: bool
    ) -> _Sorted:
        """The batch's items sorted into new, updated and duplicate (purged, anonymised and
        expired ones included: ``purge_guard``), and its rejections."""
        raws = [r for r in batch if isinstance(r, RawItem)]
        rejected = [r for r in batch if isinstance(r, Rejected)]
        hashes = {id(r): content_hash(r) for r in raws}
        existing = item_repo.known_external_ids(session, source_id, (r.external_id for r in raws))
        guard = PurgeGuard.for_batch(
            session, self.settings, source_id, source_repo.get_source(session, source_id).kind,
            raws, list(hashes.values()), by_content)
        known_hashes = (
            item_repo.known_content_hashes(session, source_id, hashes.values())
            if by_content else set()
        )
        new: list[tuple[RawItem, str]] = []
        updates: list[tuple[Item, RawItem, str]] = []
        seen_ids: set[str] = set()
        dupes = expired = 0
        for raw in raws:
            digest = hashes[id(raw)]
            item = existing.get(raw.external_id)
            if raw.external_id in seen_ids:
                dupes += 1
            elif (refusal := guard.refusal(raw, digest, item)) is not None:
                dupes += 1
                expired += refusal is Refusal.EXPIRED
            elif item is not None:
                if item.content_hash == digest:
                    dupes += 1
                else:
                    updates.append((item, raw, digest))
            elif digest in known_hashes:
                dupes += 1
            else:
                new.append((raw, digest))
                if by_content:
                    known_hashes.add(digest)
            seen_ids.add(raw.external_id)
        return _Sorted(new, updates, dupes, rejected, expired)

    def _normalised(
        self, batch: list[Entry]
    ) -> list[Entry]:
        """The batch with every string in the form it is stored in (``text_normalise``); an
        item with no text left (it was only control characters) goes to quarantine."""
        out: list[Entry] = []
        for entry in batch:
            entry = normalise_record(entry, self.settings.text_max_chars)
            if isinstance(entry, RawItem) and not entry.text.strip():
                entry = Rejected(
                    json.dumps(dataclasses.asdict(entry), ensure_ascii=False, default=str),
                    entry.external_id, f"{entry.external_id}: the text is empty once control "
                    "characters are removed", "EmptyText")
            out.append(entry)
        return out

    def _persist(
        self, source_id: int, batch: list[Entry], report: RunReport,
        cursor: dict[str, Any] | None, by_content: bool,
    ) -> None:
        self._store(source_id, self._normalised(batch), report, cursor, by_content)

    def _store(
        self, source_id: int, batch: list[Any], report: RunReport, cursor: dict[str, Any] | None,
        by_content: bool,
    ) -> None:
        """Write a batch in one transaction. A record the database refuses (a value it cannot
        hold) must not cost the others, nor fail every retry of the run: the batch is then
        written record by record and the refused record goes to quarantine with the reason."""
        try:
            self._write(source_id, batch, report, cursor, by_content)
            return
        except OperationalError:
            raise  # busy or unreachable: no record is at fault; the run fails, a rerun stores it
        except (StatementError, TypeError, ValueError) as exc:
            # TypeError, ValueError: a value the driver or a column type cannot convert.
            if len(batch) == 1:
                self._quarantine_refused(source_id, batch[0], report, cursor, exc)
                return
            log.warning("the database refused a batch of %d records (%s); writing them one "
                        "by one", len(batch), database_reason(exc))
        for entry in batch:
            self._store(source_id, [entry], report, cursor, by_content)

    def _write(
        self, source_id: int, batch: list[Any], report: RunReport, cursor: dict[str, Any] | None,
        by_content: bool,
    ) -> None:
        for attempt in range(2):
            try:
                with counted_on_commit(report), session_scope(self.factory) as session:
                    self._write_batch(session, source_id, batch, report, cursor, by_content)
                return
            except IntegrityError:
                # Another writer stored some of the same external ids between our read and
                # our insert (PostgreSQL: SQLite writers take the lock before reading). Read
                # again: they are now duplicates or updates.
                if attempt:
                    raise

    def _write_batch(
        self, session: Session, source_id: int, batch: list[Any], report: RunReport,
        cursor: dict[str, Any] | None, by_content: bool,
    ) -> None:
        source = source_repo.get_source(session, source_id)
        collector_cls = get_collector(source.kind)
        for part in rounds_by_version(batch):
            new, updates, dupes, rejected, expired = self._sort_entries(
                session, source_id, part, by_content)
            now = utcnow()
            item_repo.insert_items(session, [
                self._new_item(session, source, raw, digest, collector_cls.channel, now)
                for raw, digest in new
            ])
            item_repo.apply_updates(session, [
                (item, self._change(raw, digest)) for item, raw, digest in updates])
            self._record_verdicts(session, source_id, [raw for raw, _digest in new]
                                  + [raw for _item, raw, _digest in updates])
            calls = self._sorted_intervals(session, source_id, part)
            call_repo.write_intervals(session, calls.changes.new + calls.changes.changed)
            figure_repo.record_figures(session, source_id, [
                {**asdict(f),
                 "subject": f.subject and redact(f.subject, self.settings.redact_patterns)[:200],
                 "url": f.url and redact(f.url, self.settings.redact_patterns)}
                for f in part if isinstance(f, SourceFigures)
            ])
            patterns = self.settings.redact_patterns
            secrets = source_secrets(source.kind, source.options) if rejected else []
            for rej in rejected:
                source_repo.add_quarantine(
                    session, source_id=source_id, run_id=report.run_id,
                    payload=redact_payload(rej.payload, patterns),
                    position=scrub(rej.position, secrets) or "",
                    error_class=rej.error_class,
                    message=redact(scrub(rej.reason, secrets) or "", patterns),
                )
            report.rejected.extend(replace(r, payload="") for r in rejected)
            report.fetched += len(part) - len(rejected)
            report.new += len(new) + len(calls.changes.new)
            report.updated += len(updates) + len(calls.changes.changed)
            report.duplicate += dupes + calls.changes.duplicate
            report.expired += expired
            report.quarantined += len(rejected)
        self._record_progress(session, source, report, cursor)

    def _record_progress(
        self, session: Session, source: Source, report: RunReport, cursor: dict[str, Any] | None
    ) -> None:
        """The run's counters and the source's cursor, in the transaction of what they count."""
        if report.run_id is not None:
            run = session.get(CollectionRun, report.run_id)
            assert run is not None
            run.fetched, run.new, run.duplicate = report.fetched, report.new, report.duplicate
            run.updated, run.quarantined = report.updated, report.quarantined
        if cursor is not None:
            source.cursor = dict(cursor)

    def _quarantine_refused(
        self, source_id: int, entry: Any, report: RunReport, cursor: dict[str, Any] | None,
        exc: Exception,
    ) -> None:
        """Quarantine a record the database would not store, with the database's reason."""
        position = entry.position if isinstance(entry, Rejected) else str(entry.external_id)
        payload = refused_payload(entry)
        with counted_on_commit(report), session_scope(self.factory) as session:
            source_repo.add_quarantine(
                session, source_id=source_id, run_id=report.run_id,
                payload=redact_payload(payload, self.settings.redact_patterns),
                position=position, error_class=refusal_class(exc),
                message=f"{position}: the database refused this record "
                f"({database_reason(exc)})",
            )
            report.quarantined += 1
            self._record_progress(session, source_repo.get_source(session, source_id),
                                  report, cursor)

    def _record_verdicts(self, session: Session, source_id: int, raws: list[RawItem]) -> None:
        """Audit scores and the like: the source's own verdict is the item's classification."""
        stated = {raw.external_id[:512]: raw.verdict for raw in raws if raw.verdict is not None}
        if not stated:
            return
        session.flush()
        items = item_repo.known_external_ids(session, source_id, stated)
        record_verdicts(session, [
            (items[key], verdict.polarity, verdict.determinants)
            for key, verdict in stated.items() if key in items
        ])

    def _new_item(
        self, session: Session, source: Source, raw: RawItem, digest: str, default_channel: str,
        now: datetime,
    ) -> dict[str, Any]:
        site_id = self._places.site_id(session, raw.site) if raw.site else source.site_id
        department_id = (self._places.department_id(session, raw.department) if raw.department
                         else source.department_id)
        return dict(
            authority_id=source.authority_id, source_id=source.id,
            external_id=raw.external_id[:512], content_hash=digest,
            channel=str(raw.channel or default_channel), url=raw.url,
            title=redact(raw.title, self.settings.redact_patterns) if raw.title else None,
            text=redact(raw.text, self.settings.redact_patterns),
            lang=raw.lang, author_hash=pseudonym(raw.author, self.settings.pseudonym_key),
            published_at=raw.published_at, collected_at=now, classified_version=None,
            rating_value=raw.rating_value, rating_scale=raw.rating_scale,
            rating_norm=normalized_rating(raw), site_id=site_id, department_id=department_id,
            extra=redact_value(raw.extra, self.settings.redact_patterns),
            received_at=raw.received_at, answered_at=raw.answered_at, closed_at=raw.closed_at,
        )

    def _sorted_intervals(
        self, session: Session, source_id: int, batch: list[Any]
    ) -> _IntervalBatch:
        """The batch's call intervals as CallStat rows, sorted into new, changed and repeated
        (the run's places are created where missing, except in a dry run)."""
        intervals = [e for e in batch if isinstance(e, CallInterval)]
        if not intervals:
            return _IntervalBatch()
        source = source_repo.get_source(session, source_id)
        places = self._places
        rows = [
            dict(authority_id=source.authority_id, source_id=source.id, queue=c.queue,
                 interval_start=c.interval_start, interval_minutes=c.interval_minutes,
                 offered=c.offered, answered=c.answered, abandoned=c.abandoned,
                 avg_wait_seconds=c.avg_wait_seconds, max_wait_seconds=c.max_wait_seconds,
                 service_level=c.service_level, service_level_seconds=c.service_level_seconds,
                 agents=c.agents,
                 site_id=places.site_id(session, c.site) if c.site else source.site_id,
                 department_id=(places.department_id(session, c.department) if c.department
                                else source.department_id),
                 extra=redact_value(c.extra, self.settings.redact_patterns))
            for c in intervals
        ]
        changes = call_repo.sort_intervals(session, rows)
        new_keys = {(r["queue"], r["interval_start"]) for r in changes.new}
        return _IntervalBatch(
            changes=changes,
            preview=[c for c in intervals if (c.queue, c.interval_start) in new_keys],
        )

    def _change(self, raw: RawItem, digest: str) -> ItemChange:
        """A changed item (a service request whose status moved) as the store applies it."""
        patterns = self.settings.redact_patterns
        return ItemChange(
            content_hash=digest, title=redact(raw.title, patterns) if raw.title else None,
            text=redact(raw.text, patterns), published_at=raw.published_at,
            rating_value=raw.rating_value, rating_scale=raw.rating_scale,
            rating_norm=normalized_rating(raw), extra=redact_value(raw.extra, patterns),
            received_at=raw.received_at, answered_at=raw.answered_at, closed_at=raw.closed_at,
        )

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
            report.error = _error_text(error)
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
        with session_scope(self.factory) as session:
            source = source_repo.get_source(session, source_id)
            # What goes to CollectionRun.error and Source.last_error: an error may quote the
            # record or the server answer it failed on, with the same personal data as a text.
            report.error = self._error_as_stored(
                scrub(report.error, source_secrets(source.kind, source.options)))
            now = utcnow()
            source.last_run_at = now
            if error is None and ctx is not None:
                source.etag = ctx.new_etag or source.etag
                source.last_modified = ctx.new_last_modified or source.last_modified
                source.cursor = dict(ctx.cursor)
            if error is None:
                source.last_success_at = now
                source.last_error = None
                source.consecutive_failures = 0
                source.next_run_at = None
            elif isinstance(error, RunInterrupted) and not error.source_fault:
                pass  # stopped from outside: the source's health is what it was
            else:
                source.last_error = report.error
                source.consecutive_failures += 1
                source.next_run_at = next_retry_at(
                    source.consecutive_failures, now, self.settings
                )
            if report.run_id is not None:
                run = session.get(CollectionRun, report.run_id)
                assert run is not None
                run.status = report.status
                run.finished_at = now
                run.error = report.error

    def _error_as_stored(self, error: str | None) -> str | None:
        """A run's error with its personal data masked as in item texts (secrets are scrubbed
        first: redaction could otherwise cut a secret in two and let half of it through)."""
        return redact(error, self.settings.redact_patterns) if error else error


FINISH_ATTEMPTS = 4


def _as_stored(raw: RawItem, settings: Settings) -> RawItem:
    """A preview shows what would be stored: personal data masked, the author pseudonymised."""
    patterns = settings.redact_patterns
    return replace(raw, text=redact(raw.text, patterns),
                   title=redact(raw.title, patterns) if raw.title else None,
                   author=pseudonym(raw.author, settings.pseudonym_key),
                   extra=redact_value(raw.extra, patterns))


def _error_text(error: BaseException) -> str:
    """What a failed run stores and shows: never a database's SQL text or row values."""
    if isinstance(error, EcouteError):
        return str(error)
    if isinstance(error, SQLAlchemyError):
        # The driver's message quotes the statement and the record: the server log has it.
        log.error("database error while storing a batch: %s", error)
        return (f"the database refused to store a batch ({type(error).__name__}); nothing of "
                "that batch was stored, the next run tries again (details in the server log)")
    return f"unexpected {type(error).__name__} in the collector: {error}"


def _repeats(
    batch: list[Entry], by_content: bool, read_so_far: set[str]
) -> set[int]:
    """The ``id()`` of the items of ``batch`` that repeat an entry read earlier in the run (by
    external id, or by content where the collector dedupes by content); ``read_so_far``, the
    run's memory of what it read, is updated."""
    repeats: set[int] = set()
    for raw in batch:
        if not isinstance(raw, RawItem):
            continue
        keys = {f"id:{raw.external_id}"}
        if by_content:
            keys.add(f"content:{content_hash(raw)}")
        if keys & read_so_far:
            repeats.add(id(raw))
        read_so_far |= keys
    return repeats


def _interruptible(
    stream: Iterator[Entry], interrupt: Callable[[], None]
) -> Iterator[Entry]:
    try:
        for entry in stream:
            yield entry
            interrupt()
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def _batches(
    stream: Iterator[Entry], size: int
) -> Generator[list[Entry], None, None]:
    """Groups of ``size``; when the collector fails midway, what it yielded is still handed
    over before the error propagates, so nothing already read is lost."""
    batch: list[Entry] = []
    try:
        for entry in stream:
            batch.append(entry)
            if len(batch) >= size:
                yield batch
                batch = []
    except Exception:  # not GeneratorExit: a dry run that stops early just closes us
        if batch:
            yield batch
        raise
    if batch:
        yield batch
