"""What a run does with the entries a collector yields before anything is written: it groups
them in batches, puts their strings in the stored normal form, hashes their content and sorts
a batch into new, updated and duplicate entries against what the store already holds.

Nothing here writes: :mod:`ecoute.collectors.batch_writer` stores what is sorted here, and a
dry run (:mod:`ecoute.collectors.runner`) only counts it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from ecoute.collectors.base import CallInterval, RawItem, Rejected, SourceFigures
from ecoute.collectors.purge_guard import PurgeGuard, Refusal
from ecoute.config.settings import Settings
from ecoute.privacy import redact_value
from ecoute.store import call_stats as call_repo
from ecoute.store import items as item_repo
from ecoute.store import sources as source_repo
from ecoute.store.authorities import Places
from ecoute.store.models import Item
from ecoute.store.text_normalise import normalise_record

#: What a collector yields, as the runner batches it.
Entry = RawItem | CallInterval | SourceFigures | Rejected


def content_hash(raw: RawItem) -> str:
    """Hash of what makes two items the same feedback, whatever their external ids.

    A collector whose items change without their text changing (a service request whose
    status moves) puts what changed in ``version_key``, which is hashed too.
    """
    published = raw.published_at.date().isoformat() if raw.published_at else ""
    title = single_spaced(raw.title.lower()) if raw.title else ""
    author = raw.author.lower().strip() if raw.author else ""
    basis = f"{title}\x1f{single_spaced(raw.text.lower())}\x1f{author}\x1f{published}"
    if raw.version_key:
        basis += "\x1f" + raw.version_key
    return hashlib.sha256(basis.encode()).hexdigest()


def single_spaced(text: str) -> str:
    """``" ".join(text.split())``: words separated by one space, none around them.

    Most texts already are: a printable string holds no whitespace but the space (tabs,
    newlines and no-break spaces are not printable), so without two spaces in a row or one at
    either end it is returned as it is, without splitting it into words and joining them
    again (most of the content hash's cost)."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


class SortedEntries(NamedTuple):
    new: list[tuple[RawItem, str]]
    updates: list[tuple[Item, RawItem, str]]
    duplicate: int
    rejected: list[Rejected]
    expired: int


@dataclass
class IntervalBatch:
    changes: call_repo.IntervalChanges = field(
        default_factory=lambda: call_repo.IntervalChanges([], [], 0))
    preview: list[CallInterval] = field(default_factory=list)


def normalised(batch: list[Entry], max_chars: int) -> list[Entry]:
    """The batch with every string in the form it is stored in (``text_normalise``); an
    item with no text left (it was only control characters) goes to quarantine."""
    out: list[Entry] = []
    for entry in batch:
        entry = normalise_record(entry, max_chars)
        if isinstance(entry, RawItem) and not entry.text.strip():
            entry = Rejected(
                json.dumps(dataclasses.asdict(entry), ensure_ascii=False, default=str),
                entry.external_id, f"{entry.external_id}: the text is empty once control "
                "characters are removed", "EmptyText")
        out.append(entry)
    return out


def sort_entries(
    session: Session, settings: Settings, source_id: int, batch: list[Entry], by_content: bool
) -> SortedEntries:
    """The batch's items sorted into new, updated and duplicate (purged, anonymised and
    expired ones included: ``purge_guard``), and its rejections."""
    raws = [r for r in batch if isinstance(r, RawItem)]
    rejected = [r for r in batch if isinstance(r, Rejected)]
    hashes = {id(r): content_hash(r) for r in raws}
    stored = item_repo.stored_hashes(session, source_id, (r.external_id for r in raws))
    # Only an entry whose content changed needs its item (to update it, or to see that it was
    # anonymised): the same content is a duplicate, anonymised or not.
    changed = [r.external_id for r in raws
               if stored.get(r.external_id, hashes[id(r)]) != hashes[id(r)]] if stored else []
    existing = item_repo.known_external_ids(session, source_id, changed) if changed else {}
    guard = PurgeGuard.for_batch(
        session, settings, source_id, source_repo.get_source(session, source_id).kind,
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
        if raw.external_id in seen_ids or stored.get(raw.external_id) == digest:
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
    return SortedEntries(new, updates, dupes, rejected, expired)


def sort_intervals(
    session: Session, settings: Settings, places: Places, source_id: int, batch: list[Any]
) -> IntervalBatch:
    """The batch's call intervals as CallStat rows, sorted into new, changed and repeated
    (the run's places are created where missing, except in a dry run)."""
    intervals = [e for e in batch if isinstance(e, CallInterval)]
    if not intervals:
        return IntervalBatch()
    source = source_repo.get_source(session, source_id)
    rows = [
        dict(authority_id=source.authority_id, source_id=source.id, queue=c.queue,
             interval_start=c.interval_start, interval_minutes=c.interval_minutes,
             offered=c.offered, answered=c.answered, abandoned=c.abandoned,
             avg_wait_seconds=c.avg_wait_seconds, max_wait_seconds=c.max_wait_seconds,
             service_level=c.service_level, service_level_seconds=c.service_level_seconds,
             agents=c.agents, waiting=c.waiting,
             site_id=places.site_id(session, c.site) if c.site else source.site_id,
             department_id=(places.department_id(session, c.department) if c.department
                            else source.department_id),
             extra=redact_value(c.extra, settings.redact_patterns))
        for c in intervals
    ]
    changes = call_repo.sort_intervals(session, rows)
    new_keys = {(r["queue"], r["interval_start"]) for r in changes.new}
    return IntervalBatch(
        changes=changes,
        preview=[c for c in intervals if (c.queue, c.interval_start) in new_keys],
    )


def repeats(batch: list[Entry], by_content: bool, read_so_far: set[str]) -> set[int]:
    """The ``id()`` of the items of ``batch`` that repeat an entry read earlier in the run (by
    external id, or by content where the collector dedupes by content); ``read_so_far``, the
    run's memory of what it read, is updated."""
    found: set[int] = set()
    for raw in batch:
        if not isinstance(raw, RawItem):
            continue
        keys = {f"id:{raw.external_id}"}
        if by_content:
            keys.add(f"content:{content_hash(raw)}")
        if keys & read_so_far:
            found.add(id(raw))
        read_so_far |= keys
    return found


def interruptible(stream: Iterator[Entry], interrupt: Callable[[], None]) -> Iterator[Entry]:
    try:
        for entry in stream:
            yield entry
            interrupt()
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def batches(stream: Iterator[Entry], size: int) -> Generator[list[Entry], None, None]:
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
