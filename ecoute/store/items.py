"""Repository functions for items: writing collected items (new ones, and what changed in
known ones), dedupe look-ups, listing with filters, the classify queue."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ecoute.errors import InvalidRequest, ItemNotFound
from ecoute.domain import STATED
from ecoute.store.models import Authority, DeterminantTag, Item, ItemCount, Tagging, utcnow
from ecoute.store.taggings import forget_classification, restate, retract


def known_external_ids(
    session: Session, source_id: int, external_ids: Iterable[str]
) -> dict[str, Item]:
    ids = list(set(external_ids))
    found: dict[str, Item] = {}
    # Chunks keep the IN list under SQLite's variable limit.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for item in session.scalars(
            select(Item).where(Item.source_id == source_id, Item.external_id.in_(chunk))
        ):
            found[item.external_id] = item
    return found


def known_content_hashes(session: Session, source_id: int, hashes: Iterable[str]) -> set[str]:
    values = list(set(hashes))
    found: set[str] = set()
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        found.update(
            session.scalars(
                select(Item.content_hash).where(
                    Item.source_id == source_id, Item.content_hash.in_(chunk)
                )
            )
        )
    return found


def insert_items(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new items (``Item`` column dicts) in one executemany, and add them to the item
    counters (``ItemCount``) in the same transaction, in key order so that concurrent writers
    lock the counter rows in the same order. The one way items are inserted (deletions are
    taken off the counters by triggers). Through Core: the ORM's unit of work costs more than
    the rest of a collection batch, and nothing reads the new rows as objects."""
    if not rows:
        return
    session.execute(insert(cast(Table, Item.__table__)), list(rows))
    counted = Counter((row["source_id"], str(row["channel"])) for row in rows)
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = upsert(ItemCount)
    stmt = stmt.on_conflict_do_update(index_elements=["source_id", "channel"],
                                      set_={"items": ItemCount.items + stmt.excluded["items"]})
    session.execute(stmt, [{"source_id": source_id, "channel": channel, "items": n}
                           for (source_id, channel), n in sorted(counted.items())])


@dataclass(frozen=True)
class ItemChange:
    """What a source now says of an item it gave before (redacted, as stored)."""

    content_hash: str
    title: str | None
    text: str
    published_at: datetime | None
    rating_value: float | None
    rating_scale: str | None
    rating_norm: float | None
    extra: dict[str, Any]
    received_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None


#: Former versions an item keeps in ``extra["versions"]``.
KEPT_VERSIONS = 20


def apply_updates(session: Session, changes: Sequence[tuple[Item, ItemChange]]) -> None:
    """Apply what sources changed in items they gave before, keeping one row per item and
    the rollups equal to the classifications.

    Only a new text or title (what the classifier reads) drops the classification: the item
    leaves the rollups and waits for the classifier again. A status, date or rating that
    moved keeps it: the item is retracted from the rollups, modified, and restated where
    it now belongs. The content hash replaced is logged in ``extra["versions"]``.
    """
    reread = [item for item, change in changes
              if item.text != change.text or item.title != change.title]
    kept = [item for item, change in changes
            if item.text == change.text and item.title == change.title]
    if reread:
        forget_classification(session, reread)
    moved = retract(session, kept) if kept else {}
    now = utcnow().isoformat()
    for item, change in changes:
        history = [*item.extra.get("versions", []),
                   {"content_hash": item.content_hash, "replaced_at": now}]
        item.extra = {**change.extra, "versions": history[-KEPT_VERSIONS:]}
        item.content_hash = change.content_hash
        item.title, item.text = change.title, change.text
        item.published_at = change.published_at or item.published_at
        item.rating_value, item.rating_scale = change.rating_value, change.rating_scale
        item.rating_norm = change.rating_norm
        item.received_at, item.closed_at = change.received_at, change.closed_at
        # An answer once given stays given: a later export that only shows the latest
        # update (an Open311 request's status notes) must not move the first answer later.
        answers = [d for d in (item.answered_at, change.answered_at) if d is not None]
        item.answered_at = min(answers) if answers else None
    if kept:
        restate(session, kept, moved)


def get_item(session: Session, item_id: int, authority_id: int | None = None) -> Item:
    item = session.get(Item, item_id)
    if item is None or (authority_id is not None and item.authority_id != authority_id):
        raise ItemNotFound(f"no item with id {item_id}")
    return item


@dataclass
class ItemFilters:
    authority_id: int
    source_id: int | None = None
    channel: str | None = None
    determinant: str | None = None
    polarity: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    site_id: int | None = None
    department_id: int | None = None
    lang: str | None = None
    #: Words the text contains (case-insensitive), as typed.
    text: str | None = None
    #: Only these items (the ones a follow-up filter found).
    ids: Collection[int] | None = None


def _encode_cursor(item: Item) -> str:
    key = [item.published_at.isoformat() if item.published_at else None, item.id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


#: Ids are 64-bit signed integers in both databases.
_MAX_ID = 2**63 - 1


def _decode_cursor(cursor: str) -> tuple[datetime | None, int]:
    """The (published_at, id) a cursor of :func:`_encode_cursor` holds; anything else, edited
    or made up, is an InvalidRequest (never a database error: an id over 64 bits or a date
    without an offset would reach the driver)."""
    refused = InvalidRequest("the cursor is not one this API returned",
                             hint="start again without a cursor")
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, RecursionError) as exc:
        raise refused from exc
    if not (isinstance(key, list) and len(key) == 2 and (key[0] is None or isinstance(key[0], str))
            and type(key[1]) is int and 1 <= key[1] <= _MAX_ID):
        raise refused
    try:
        when = datetime.fromisoformat(key[0]) if key[0] else None
    except ValueError as exc:
        raise refused from exc
    if when is not None:
        if when.tzinfo is None:
            raise refused
        try:
            when = when.astimezone(timezone.utc)
        except OverflowError as exc:
            raise refused from exc
    return when, key[1]


def _filtered(filters: ItemFilters) -> Select[Item]:
    query = select(Item).where(Item.authority_id == filters.authority_id)
    if filters.source_id is not None:
        query = query.where(Item.source_id == filters.source_id)
    if filters.channel:
        query = query.where(Item.channel == filters.channel)
    if filters.since:
        query = query.where(Item.published_at >= filters.since)
    if filters.until:
        query = query.where(Item.published_at < filters.until)
    if filters.site_id is not None:
        query = query.where(Item.site_id == filters.site_id)
    if filters.department_id is not None:
        query = query.where(Item.department_id == filters.department_id)
    if filters.lang:
        query = query.where(Item.lang == filters.lang)
    if filters.ids is not None:
        query = query.where(Item.id.in_(list(filters.ids)))
    if filters.text:
        # % and _ typed by a person are letters to find, not wildcards.
        escaped = filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Item.text.ilike(f"%{escaped}%", escape="\\"))
    if filters.determinant or filters.polarity:
        tag = select(DeterminantTag.id).where(DeterminantTag.item_id == Item.id)
        if filters.determinant:
            tag = tag.where(DeterminantTag.determinant == filters.determinant)
        if filters.polarity:
            tag = tag.where(DeterminantTag.polarity == filters.polarity)
        query = query.where(tag.exists())
    return query


def list_items(
    session: Session, filters: ItemFilters, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[Item], str | None]:
    """Items newest first (items without a date last), and the cursor of the next page.

    Keyset pagination on (published_at, id) so pages stay stable while items arrive.
    """
    query = _filtered(filters)
    if cursor:
        when, last_id = _decode_cursor(cursor)
        if when is None:
            query = query.where(Item.published_at.is_(None), Item.id < last_id)
        else:
            query = query.where(
                or_(
                    Item.published_at < when,
                    and_(Item.published_at == when, Item.id < last_id),
                    Item.published_at.is_(None),
                )
            )
    query = query.order_by(Item.published_at.desc().nulls_last(), Item.id.desc()).limit(limit + 1)
    rows = list(session.scalars(query))
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def tags_for(session: Session, item_ids: Sequence[int]) -> dict[int, list[DeterminantTag]]:
    out: dict[int, list[DeterminantTag]] = {i: [] for i in item_ids}
    if not item_ids:
        return out
    for tag in session.scalars(
        select(DeterminantTag)
        .where(DeterminantTag.item_id.in_(item_ids))
        .order_by(DeterminantTag.item_id, DeterminantTag.span_start)
    ):
        out[tag.item_id].append(tag)
    return out


def latest_taggings(session: Session, item_ids: Sequence[int]) -> dict[int, Tagging]:
    out: dict[int, Tagging] = {}
    if not item_ids:
        return out
    for tagging in session.scalars(
        select(Tagging).where(Tagging.item_id.in_(item_ids)).order_by(Tagging.id)
    ):
        out[tagging.item_id] = tagging
    return out


def needs_classifier(model_version: str) -> ColumnElement[bool]:
    """Condition on Item: not yet classified by ``model_version``, and not stated by its
    source (an audit score is the item's verdict; a model reading its label is not).

    The one definition of a pending item; :func:`pending_item_ids` and
    :func:`pending_count` ask the same question in the form indexes can answer (``_PARTS``)."""
    return or_(Item.classified_version.is_(None),
               and_(Item.classified_version != model_version, Item.classified_version != STATED))


#: The pending items of one authority (``authority``) for one model version, as disjoint
#: parts that each read one index range (``low``, ``high``: that version and STATED, in
#: order). ``!=`` would make every database scan the whole table (0.6 s at a million items,
#: at every poll of an idle worker): "never classified" has a partial index of its own
#: (``ix_item_unclassified``), and "classified by another version" is the ranges of
#: ``ix_item_authority_classified_version`` below, between and above the two versions that
#: are not pending, all empty once a model has tagged everything. Each part is ordered as its
#: index is, so that the planner reads the index and stops at the limit (PostgreSQL's
#: statistics do not know that each authority has versions of its own, and would otherwise
#: scan the table expecting many matches). Built once: building them cost more than running
#: them.
_VERSION = Item.classified_version
_LOW: BindParameter[str] = bindparam("low", type_=String)
_HIGH: BindParameter[str] = bindparam("high", type_=String)
_PARTS: list[Select[Any]] = [
    select(Item.id).where(Item.authority_id == bindparam("authority"), part).order_by(order)
    for part, order in [
        (_VERSION.is_(None), Item.id), (_VERSION < _LOW, _VERSION),
        (and_(_VERSION > _LOW, _VERSION < _HIGH), _VERSION), (_VERSION > _HIGH, _VERSION),
    ]
]
#: The first pending item of each part: one round trip answers an idle poll.
_PROBE = select(*(part.limit(1).scalar_subquery() for part in _PARTS))


def _part_params(model_version: str, authority_id: int) -> dict[str, object]:
    low, high = sorted((model_version, STATED))
    return {"authority": authority_id, "low": low, "high": high}


def _authority_ids(session: Session, authority_id: int | None) -> list[int]:
    if authority_id is not None:
        return [authority_id]
    return list(session.scalars(select(Authority.id).order_by(Authority.id)))


def pending_item_ids(
    session: Session, model_version: str, *, limit: int, authority_id: int | None = None
) -> list[int]:
    """Up to ``limit`` items not yet classified by ``model_version`` (of one authority, when
    given): those never classified first, oldest first, then those a former model tagged.

    On PostgreSQL the rows taken are locked, skipping those another worker holds, so
    concurrent workers never classify the same item twice."""
    lock = session.get_bind().dialect.name == "postgresql"
    found: list[int] = []
    for authority in _authority_ids(session, authority_id):
        params = _part_params(model_version, authority)
        firsts = session.execute(_PROBE, params).one()
        for part, first in zip(_PARTS, firsts, strict=True):
            if len(found) >= limit:
                return found
            if first is None:
                continue
            query = part.limit(limit - len(found))
            if lock:
                query = query.with_for_update(skip_locked=True)
            found += session.scalars(query, params)
    return found


def pending_count(
    session: Session, model_version: str | None, *, authority_id: int | None = None
) -> int:
    """How many items wait for ``model_version`` (None: for a first model, so only those
    never classified), counted on the same index ranges as :func:`pending_item_ids`."""
    parts = _PARTS if model_version is not None else _PARTS[:1]
    total = 0
    for authority in _authority_ids(session, authority_id):
        params = _part_params(model_version or STATED, authority)
        for part in parts:
            counted = select(func.count()).select_from(part.order_by(None).subquery())
            total += session.scalar(counted, params) or 0
    return total


def latest_model_version(session: Session, authority_id: int) -> str | None:
    """The model version that most recently classified an item of the authority: the one
    its workers run, so what it has not classified yet is the authority's backlog."""
    return session.scalar(
        select(Tagging.model_version).join(Item, Item.id == Tagging.item_id)
        .where(Item.authority_id == authority_id, Tagging.model_version != STATED)
        .order_by(Tagging.id.desc()).limit(1))
