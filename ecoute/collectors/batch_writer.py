"""Writing one batch of a run: its items, its quarantine rows, the run's counters and the
source's cursor in one transaction.

A record the database refuses (a value it cannot hold) must not cost the others: the batch is
then written record by record and the refused record goes to quarantine with the database's
reason. Everything stored goes through redaction: text, title and every string of ``extra``
(raw fields kept for reference may hold the same phone number as the text).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.base import RawItem, Rejected, SourceFigures
from ecoute.collectors.batch_failures import (
    counted_on_commit,
    database_reason,
    refusal_class,
    refused_payload,
    rounds_by_version,
)
from ecoute.collectors.entries import sort_entries, sort_intervals
from ecoute.collectors.ratings import normalized_rating
from ecoute.collectors.registry import get_collector
from ecoute.collectors.run_report import RunReport
from ecoute.collectors.secret_options import scrub, source_secrets
from ecoute.config.settings import Settings
from ecoute.privacy import pseudonym, redact, redact_payload, redact_value
from ecoute.store import call_stats as call_repo
from ecoute.store import items as item_repo
from ecoute.store import source_figures as figure_repo
from ecoute.store import sources as source_repo
from ecoute.store.authorities import Places
from ecoute.store.db import session_scope
from ecoute.store.items import ItemChange
from ecoute.store.models import Source, utcnow
from ecoute.store.taggings import record_verdicts

# Logged under the runner's name: operators filter the run's messages by that one logger.
log = logging.getLogger("ecoute.collectors.runner")


class BatchWriter:
    """Stores the batches of one run (or entries read outside a run) of one source."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings, places: Places) -> None:
        self.factory = factory
        self.settings = settings
        #: The sites and departments named by the source, looked up once per run.
        self.places = places

    def store(
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
            self.store(source_id, [entry], report, cursor, by_content)

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
        patterns = self.settings.redact_patterns
        for part in rounds_by_version(batch):
            new, updates, dupes, rejected, expired = sort_entries(
                session, self.settings, source_id, part, by_content)
            now = utcnow()
            item_repo.insert_items(
                session, self._new_items(session, source, new, collector_cls.channel, now))
            item_repo.apply_updates(session, [
                (item, self._change(raw, digest)) for item, raw, digest in updates])
            self._record_verdicts(session, source_id, [raw for raw, _digest in new]
                                  + [raw for _item, raw, _digest in updates])
            calls = sort_intervals(session, self.settings, self.places, source_id, part)
            call_repo.write_intervals(session, calls.changes.new + calls.changes.changed)
            figure_repo.record_figures(session, source_id, [
                {**asdict(f),
                 "subject": f.subject and redact(f.subject, patterns)[:200],
                 "url": f.url and redact(f.url, patterns)}
                for f in part if isinstance(f, SourceFigures)
            ])
            self._quarantine_rejected(session, source, report.run_id, rejected)
            report.rejected.extend(replace(r, payload="") for r in rejected)
            report.fetched += len(part) - len(rejected)
            report.new += len(new) + len(calls.changes.new)
            report.updated += len(updates) + len(calls.changes.changed)
            report.duplicate += dupes + calls.changes.duplicate
            report.expired += expired
            report.quarantined += len(rejected)
        record_progress(session, source, report, cursor)

    def _quarantine_rejected(
        self, session: Session, source: Source, run_id: int | None, rejected: list[Rejected]
    ) -> None:
        """What the collector could not read, kept with its position and reason; the source's
        secrets (a token in a URL) are scrubbed from both before redaction."""
        patterns = self.settings.redact_patterns
        secrets = source_secrets(source.kind, source.options) if rejected else []
        for rej in rejected:
            source_repo.add_quarantine(
                session, source_id=source.id, run_id=run_id,
                payload=redact_payload(rej.payload, patterns),
                position=scrub(rej.position, secrets) or "",
                error_class=rej.error_class,
                message=redact(scrub(rej.reason, secrets) or "", patterns),
            )

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
            record_progress(session, source_repo.get_source(session, source_id), report, cursor)

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

    def _new_items(
        self, session: Session, source: Source, new: list[tuple[RawItem, str]],
        default_channel: str, now: datetime,
    ) -> list[dict[str, Any]]:
        """The rows of new items, redacted and pseudonymised (what the source gives every item
        is read once, not once per item: a loaded model's attributes are not free)."""
        patterns, key, places = self.settings.redact_patterns, self.settings.pseudonym_key, \
            self.places
        authority_id, source_id = source.authority_id, source.id
        site_id, department_id = source.site_id, source.department_id
        return [dict(
            authority_id=authority_id, source_id=source_id,
            external_id=raw.external_id[:512], content_hash=digest,
            channel=str(raw.channel or default_channel), url=raw.url,
            title=redact(raw.title, patterns) if raw.title else None,
            text=redact(raw.text, patterns),
            lang=raw.lang, author_hash=pseudonym(raw.author, key),
            published_at=raw.published_at, collected_at=now, classified_version=None,
            rating_value=raw.rating_value, rating_scale=raw.rating_scale,
            rating_norm=normalized_rating(raw),
            site_id=places.site_id(session, raw.site) if raw.site else site_id,
            department_id=(places.department_id(session, raw.department) if raw.department
                           else department_id),
            extra=redact_value(raw.extra, patterns),
            received_at=raw.received_at, answered_at=raw.answered_at, closed_at=raw.closed_at,
        ) for raw, digest in new]

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


def record_progress(
    session: Session, source: Source, report: RunReport, cursor: dict[str, Any] | None
) -> None:
    """The run's counters and the source's cursor, in the transaction of what they count."""
    if report.run_id is not None:
        source_repo.update_run(
            session, report.run_id, fetched=report.fetched, new=report.new,
            duplicate=report.duplicate, updated=report.updated, quarantined=report.quarantined)
    if cursor is not None:
        source.cursor = dict(cursor)
