"""Repository functions for items: dedupe look-ups, listing with filters, classify queue."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ecoute.errors import InvalidRequest, ItemNotFound
from ecoute.domain import STATED
from ecoute.store.models import DeterminantTag, Item, ItemCount, Tagging


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
    source (an audit score is the item's verdict; a model reading its label is not)."""
    return or_(Item.classified_version.is_(None),
               and_(Item.classified_version != model_version, Item.classified_version != STATED))


def pending_item_ids(
    session: Session, model_version: str, *, limit: int, authority_id: int | None = None
) -> list[int]:
    """Items not yet classified by ``model_version`` (oldest first)."""
    query = select(Item.id).where(needs_classifier(model_version))
    if authority_id is not None:
        query = query.where(Item.authority_id == authority_id)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Concurrent workers skip each other's rows instead of waiting or double-classifying.
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query.order_by(Item.id).limit(limit)))


def add_items(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new items (column dicts) in one executemany, and add them to the item counters
    (``ItemCount``) in the same transaction, in key order so that concurrent writers lock the
    counter rows in the same order. The one way items are inserted; deletions are taken off
    the counters by triggers."""
    if not rows:
        return
    session.execute(insert(Item), list(rows))
    counted = Counter((row["source_id"], str(row["channel"])) for row in rows)
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = upsert(ItemCount)
    stmt = stmt.on_conflict_do_update(index_elements=["source_id", "channel"],
                                      set_={"items": ItemCount.items + stmt.excluded["items"]})
    session.execute(stmt, [{"source_id": source_id, "channel": channel, "items": n}
                           for (source_id, channel), n in sorted(counted.items())])
