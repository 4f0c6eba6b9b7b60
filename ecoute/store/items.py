"""Repository functions for items: writing collected items (new ones, and what changed in
known ones), dedupe look-ups, their tags, the classify queue (listing: ``item_listing``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
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

from ecoute.errors import ItemNotFound
from ecoute.domain import STATED
from ecoute.store.models import (
    Authority,
    DeterminantTag,
    Item,
    ItemCount,
    Tagging,
    sort_at_of,
    utcnow,
)
from ecoute.store.taggings import forget_classification, restate, retract


#: Values per dedupe query: one query answers a whole batch (SQLite takes 32,766 variables
#: from 3.32, and ecoute's migrations need 3.35; PostgreSQL takes 65,535).
_PER_QUERY = 10_000


def stored_hashes(session: Session, source_id: int, external_ids: Iterable[str]) -> dict[str, str]:
    """The content hash of each of ``external_ids`` the source already has, in one query per
    batch and without loading the items: most entries of a batch are new, or repeat what is
    stored (a batch sent again), and only a changed one needs its item
    (:func:`known_external_ids`)."""
    found: dict[str, str] = {}
    for chunk in _chunks(external_ids):
        found.update(session.execute(
            select(Item.external_id, Item.content_hash).where(
                Item.source_id == source_id, Item.external_id.in_(chunk))
        ).all())
    return found


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    """The distinct ``values`` in lists of at most ``_PER_QUERY``, one IN list each."""
    distinct = list(set(values))
    for start in range(0, len(distinct), _PER_QUERY):
        yield distinct[start:start + _PER_QUERY]


def known_external_ids(
    session: Session, source_id: int, external_ids: Iterable[str]
) -> dict[str, Item]:
    found: dict[str, Item] = {}
    for chunk in _chunks(external_ids):
        for item in session.scalars(select(Item).where(
                Item.source_id == source_id, Item.external_id.in_(chunk))):
            found[item.external_id] = item
    return found


def known_content_hashes(session: Session, source_id: int, hashes: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(hashes):
        found.update(session.scalars(select(Item.content_hash).where(
            Item.source_id == source_id, Item.content_hash.in_(chunk))))
    return found


def insert_items(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new items (``Item`` column dicts, given their ``sort_at`` here) in one
    executemany, and add them to the item counters (``ItemCount``) in the same transaction, in
    key order so that concurrent writers lock the counter rows in the same order. The one way
    items are inserted (deletions are taken off the counters by triggers). Through Core: the
    ORM's unit of work costs more than the rest of a collection batch, and nothing reads the
    new rows as objects."""
    if not rows:
        return
    for row in rows:
        row["sort_at"] = sort_at_of(row.get("published_at"))
    session.execute(insert(cast(Table, Item.__table__)), rows)
    counted = Counter((row["source_id"], str(row["channel"])) for row in rows)
    session.execute(_count_upsert(session.get_bind().dialect.name),
                    [{"source_id": source_id, "channel": channel, "items": n}
                     for (source_id, channel), n in sorted(counted.items())])


@lru_cache(maxsize=2)
def _count_upsert(dialect: str) -> Any:
    """The item counters' upsert, built once: building ``excluded`` costs about as much as
    running the statement for a batch."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(ItemCount)
    return stmt.on_conflict_do_update(index_elements=["source_id", "channel"],
                                      set_={"items": ItemCount.items + stmt.excluded["items"]})


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
        item.sort_at = sort_at_of(item.published_at)
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
