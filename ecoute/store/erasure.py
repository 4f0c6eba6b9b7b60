"""Erasure and access requests: a person's data found and removed everywhere.

A ``Subject`` is what identifies the person in the store: pseudonyms (``Item.author_hash``),
strings their data may still contain (an e-mail address, a name) and an item id. Erasure

1. takes their items out of ``DailyRollup`` (unlike retention, an erased person no longer
   counts), then deletes the items, their taggings, determinant tags and corrections, leaving
   a tombstone per item (``ecoute.store.purged``: a hash of its external id and its content
   hash) so that a source still offering the item does not bring it back;
2. deletes the quarantine entries that mention them;
3. masks them in the error texts of collection runs and sources;
4. installation-wide only: masks them in every other text, JSON or binary cell of every table
   (found by inspecting the database, so a table added later is covered without a change here).

Volunteers of the phone back-up team named by their e-mail address or phone number are
anonymised rather than deleted (``ecoute.store.volunteer_privacy``): their hours still count.

Nothing is committed here: the caller's unit of work makes it all or nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    cast,
    delete,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ecoute.domain import Provenance
from ecoute.store.models import (
    CollectionRun,
    DeterminantTag,
    Item,
    Quarantine,
    Source,
    Tagging,
    utcnow,
)
from ecoute.store.purged import remember_items
from ecoute.store.taggings import forget_classification, retract
from ecoute.store.volunteer_privacy import anonymise_volunteer, matching_volunteers

#: What replaces a person's e-mail, name or pseudonym left in an error text or another cell.
ERASED = "[ERASED]"
#: Tables the sweep leaves alone: the migration bookkeeping.
_SKIPPED = {"alembic_version"}


@dataclass(frozen=True)
class Subject:
    """Who an access or erasure request is about."""

    needles: tuple[str, ...] = ()  # e-mail address, name: matched case-insensitively
    pseudonyms: tuple[str, ...] = ()
    item_id: int | None = None

    @property
    def strings(self) -> tuple[str, ...]:
        return tuple(s for s in (*self.needles, *self.pseudonyms) if s)


@dataclass
class ErasureReceipt:
    """What an erasure removed; holds no personal data, so it can be filed."""

    matched_by: str
    authority: str | None
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None = None
    items: list[int] = field(default_factory=list)
    taggings: int = 0
    determinant_tags: int = 0
    corrections: int = 0
    rollup_cells: int = 0
    quarantine: int = 0
    run_errors: int = 0
    source_errors: int = 0
    volunteers: int = 0
    other_cells: dict[str, int] = field(default_factory=dict)


def mentions(column: Any, needles: Iterable[str]) -> ColumnElement[bool]:
    lowered = func.lower(column)
    return or_(*(lowered.contains(n.lower(), autoescape=True) for n in needles))


def matching_items(
    session: Session, subject: Subject, authority_id: int | None = None
) -> list[Item]:
    """The subject's items: by pseudonym, by id, or whose stored text still names them."""
    conditions: list[ColumnElement[bool]] = []
    if subject.pseudonyms:
        conditions.append(Item.author_hash.in_(subject.pseudonyms))
    if subject.item_id is not None:
        conditions.append(Item.id == subject.item_id)
    if subject.needles:
        conditions += [mentions(Item.text, subject.needles),
                       mentions(Item.title, subject.needles),
                       mentions(Item.url, subject.needles),
                       mentions(cast(Item.extra, Text), subject.needles)]
    if not conditions:
        return []
    query = select(Item).where(or_(*conditions)).order_by(Item.id)
    if authority_id is not None:
        query = query.where(Item.authority_id == authority_id)
    return list(session.scalars(query))


def _scoped_sources(authority_id: int | None) -> Any:
    return select(Source.id).where(Source.authority_id == authority_id)


def matching_quarantine(
    session: Session, subject: Subject, authority_id: int | None = None
) -> list[Quarantine]:
    """Quarantine entries whose payload or message mentions the subject."""
    strings = subject.strings
    if not strings:
        return []
    query = select(Quarantine).order_by(Quarantine.id)
    if authority_id is not None:
        query = query.where(Quarantine.source_id.in_(_scoped_sources(authority_id)))
    found = list(session.scalars(query.where(or_(
        mentions(Quarantine.payload_text, strings), mentions(Quarantine.message, strings)))))
    seen = {q.id for q in found}
    # Binary payloads: no portable LIKE on blobs, so they are read and searched here.
    for row in session.scalars(query.where(Quarantine.payload_bytes.is_not(None))):
        if row.id not in seen and _bytes_mention(row.payload_bytes or b"", strings):
            found.append(row)
    return sorted(found, key=lambda q: q.id)


def _bytes_mention(data: bytes, strings: Sequence[str]) -> bool:
    lowered = data.lower()
    return any(s.lower().encode() in lowered for s in strings)


def _masker(strings: Sequence[str]) -> re.Pattern[str]:
    # Longest first, so an e-mail address is masked whole before a name inside it.
    ordered = sorted(set(strings), key=len, reverse=True)
    return re.compile("|".join(re.escape(s) for s in ordered), re.IGNORECASE)


def _mask_errors(
    session: Session, column: Any, strings: Sequence[str], scope: Any
) -> int:
    table = column.class_
    pattern = _masker(strings)
    rows = list(session.scalars(select(table).where(mentions(column, strings), scope)))
    for row in rows:
        setattr(row, column.key, pattern.sub(ERASED, getattr(row, column.key)))
    return len(rows)


def erase(
    session: Session, subject: Subject, *, authority_id: int | None = None,
    authority_slug: str | None = None, matched_by: str, dry_run: bool = False,
) -> ErasureReceipt:
    """Remove the subject's data (of one authority, or installation-wide when ``authority_id``
    is None); with ``dry_run``, only count what would go."""
    receipt = ErasureReceipt(matched_by=matched_by, authority=authority_slug, dry_run=dry_run,
                             started_at=utcnow())
    items = matching_items(session, subject, authority_id)
    ids = [i.id for i in items]
    receipt.items = ids
    if ids:
        receipt.taggings = _count(session, Tagging, Tagging.item_id.in_(ids))
        receipt.determinant_tags = _count(session, DeterminantTag,
                                          DeterminantTag.item_id.in_(ids))
        receipt.corrections = _count(session, DeterminantTag, DeterminantTag.item_id.in_(ids),
                                     DeterminantTag.provenance == Provenance.HUMAN)
    quarantine = matching_quarantine(session, subject, authority_id)
    receipt.quarantine = len(quarantine)
    volunteers = matching_volunteers(session, subject.needles, authority_id)
    receipt.volunteers = len(volunteers)
    strings = subject.strings
    if dry_run:
        receipt.finished_at = utcnow()
        return receipt
    if items:
        receipt.rollup_cells = len(retract(session, items))
        forget_classification(session, items)  # the rollups no longer count them
        session.flush()
        remember_items(session, ids)
        session.execute(delete(Item).where(Item.id.in_(ids))
                        .execution_options(synchronize_session=False))
    if quarantine:
        session.execute(delete(Quarantine).where(Quarantine.id.in_([q.id for q in quarantine]))
                        .execution_options(synchronize_session=False))
    for volunteer in volunteers:
        anonymise_volunteer(session, volunteer, _masker(strings))
    session.expire_all()
    if strings:
        in_scope: Any = (CollectionRun.source_id.in_(_scoped_sources(authority_id))
                         if authority_id is not None else CollectionRun.id.is_not(None))
        receipt.run_errors = _mask_errors(session, CollectionRun.error, strings, in_scope)
        source_scope: Any = (Source.authority_id == authority_id if authority_id is not None
                             else Source.id.is_not(None))
        receipt.source_errors = _mask_errors(session, Source.last_error, strings, source_scope)
        session.flush()
        if authority_id is None:
            receipt.other_cells = sweep(session, strings)
    receipt.finished_at = utcnow()
    return receipt


def _count(session: Session, model: type[Any], *where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def searchable_columns(session: Session) -> Iterator[tuple[Table, Any]]:
    """Every text, JSON and binary column of every table of the migrated database."""
    bind = session.connection()
    metadata = MetaData()
    for name in inspect(bind).get_table_names():
        if name in _SKIPPED:
            continue
        table = Table(name, metadata, autoload_with=bind)
        for column in table.columns:
            if isinstance(column.type, (String, Text, JSON, LargeBinary)):
                yield table, column


def cells_mentioning(session: Session, strings: Sequence[str]) -> dict[str, int]:
    """``table.column`` → rows whose cell holds one of ``strings`` (any case)."""
    hits: dict[str, int] = {}
    for table, column, rows in _rows_mentioning(session, strings):
        if rows:
            hits[f"{table.name}.{column.name}"] = len(rows)
    return hits


def _rows_mentioning(
    session: Session, strings: Sequence[str]
) -> Iterator[tuple[Table, Any, list[Any]]]:
    needles = [s.lower() for s in strings if s]
    # JSON may hold a string escaped (non-ASCII as \\uXXXX): look for both spellings.
    escaped = {json.dumps(n)[1:-1] for n in needles} | set(needles)
    for table, column in searchable_columns(session):
        keys = list(table.primary_key.columns)
        if not keys:
            continue
        if isinstance(column.type, LargeBinary):
            rows = [r for r in session.execute(select(*keys, column).where(column.is_not(None)))
                    if _bytes_mention(r[-1], needles)]
        else:
            text = cast(column, Text) if isinstance(column.type, JSON) else column
            wanted = escaped if isinstance(column.type, JSON) else set(needles)
            rows = list(session.execute(select(*keys, column).where(mentions(text, wanted))))
        yield table, column, rows


def sweep(session: Session, strings: Sequence[str]) -> dict[str, int]:
    """Mask ``strings`` in every cell that still holds one; returns cells changed per column."""
    pattern = _masker(strings)
    changed: dict[str, int] = {}
    for table, column, rows in list(_rows_mentioning(session, strings)):
        keys = list(table.primary_key.columns)
        for row in rows:
            value = _masked(row[-1], pattern)
            where = [k == row[i] for i, k in enumerate(keys)]
            session.execute(update(table).where(*where).values({column.name: value}))
        if rows:
            changed[f"{table.name}.{column.name}"] = len(rows)
    return changed


def _masked(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, bytes):
        bytes_pattern = re.compile(pattern.pattern.encode(), re.IGNORECASE)
        return bytes_pattern.sub(ERASED.encode(), value)
    if isinstance(value, dict):
        return {_masked(k, pattern): _masked(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, pattern) for v in value]
    return value
