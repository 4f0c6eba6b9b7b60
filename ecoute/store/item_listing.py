"""Listing items: the filters of the API, the dashboard and the exports, and keyset pages an
index serves at any depth.

Items come newest first, undated ones last, in the order of ``ix_item_authority_sort``
(``authority_id, sort_at, id``): a page is one walk of that index from the cursor, never a
sort of the authority's items nor a count of the ones before it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from ecoute.errors import InvalidRequest
from ecoute.store.models import NO_DATE, DeterminantTag, Item, Tagging
from ecoute.store.search import contains_words


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
    #: Words the title or text contains, whatever their case and accents, as typed.
    text: str | None = None
    #: The item's sentiment: an officer's reading, or else the one the figures count (the
    #: tagging of the model version that classified it).
    sentiment: str | None = None
    #: Only these items (the ones a follow-up filter found).
    ids: Collection[int] | None = None


#: Ids are 64-bit signed integers in both databases.
_MAX_ID = 2**63 - 1
#: The first dated instant: ``since``/``until`` never take in undated items.
_FIRST_DATE = NO_DATE + timedelta(microseconds=1)


def _encode_cursor(item: Item) -> str:
    key = [item.sort_at.isoformat() if item.sort_at != NO_DATE else None, item.id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (sort_at, id) a cursor of :func:`_encode_cursor` holds (None: an undated item);
    anything else, edited or made up, is an InvalidRequest (never a database error: an id
    over 64 bits or a date without an offset would reach the driver)."""
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
        when = datetime.fromisoformat(key[0]) if key[0] else NO_DATE
    except ValueError as exc:
        raise refused from exc
    if when.tzinfo is None:
        raise refused
    try:
        when = when.astimezone(timezone.utc)
    except OverflowError as exc:
        raise refused from exc
    return when, key[1]


def _sentiment_is(sentiment: str) -> ColumnElement[bool]:
    stated = select(Tagging.id).where(Tagging.item_id == Item.id,
                                      Tagging.model_version == Item.classified_version,
                                      Tagging.sentiment == sentiment)
    return or_(Item.human_sentiment == sentiment,
               and_(Item.human_sentiment.is_(None), stated.exists()))


def filtered(filters: ItemFilters) -> Select[Item]:
    """The items ``filters`` select, unordered."""
    query = select(Item).where(Item.authority_id == filters.authority_id)
    if filters.source_id is not None:
        query = query.where(Item.source_id == filters.source_id)
    if filters.channel:
        query = query.where(Item.channel == filters.channel)
    # On sort_at, which equals published_at for dated items: the listing index serves them.
    if filters.since:
        query = query.where(Item.sort_at >= max(filters.since, _FIRST_DATE))
    if filters.until:
        query = query.where(Item.sort_at < filters.until, Item.sort_at >= _FIRST_DATE)
    if filters.site_id is not None:
        query = query.where(Item.site_id == filters.site_id)
    if filters.department_id is not None:
        query = query.where(Item.department_id == filters.department_id)
    if filters.lang:
        query = query.where(Item.lang == filters.lang)
    if filters.ids is not None:
        query = query.where(Item.id.in_(list(filters.ids)))
    if filters.text:
        query = query.where(contains_words([Item.title, Item.text], filters.text))
    if filters.sentiment:
        query = query.where(_sentiment_is(filters.sentiment))
    if filters.determinant or filters.polarity:
        tag = select(DeterminantTag.id).where(DeterminantTag.item_id == Item.id)
        if filters.determinant:
            tag = tag.where(DeterminantTag.determinant == filters.determinant)
        if filters.polarity:
            tag = tag.where(DeterminantTag.polarity == filters.polarity)
        query = query.where(tag.exists())
    return query


def _page(session: Session, filters: ItemFilters, after: tuple[datetime, int] | None,
          limit: int) -> list[Item]:
    """Up to ``limit`` items after the (sort_at, id) ``after``, in listing order.

    Two index ranges rather than one row-value comparison: SQLite bounds ``(sort_at, id) <
    (:t, :id)`` on ``sort_at`` only and then skips, one by one, every item of the same
    ``sort_at`` above the cursor (66 ms a page among 90,000 undated items). The items that
    share the cursor's ``sort_at`` come first, then those before it; each query is a plain
    range of ``ix_item_authority_sort`` on both databases.
    """
    query = filtered(filters)
    if after is None:
        return list(session.scalars(
            query.order_by(Item.sort_at.desc(), Item.id.desc()).limit(limit)))
    when, last_id = after
    rows = list(session.scalars(query.where(Item.sort_at == when, Item.id < last_id)
                                .order_by(Item.id.desc()).limit(limit)))
    if len(rows) < limit:
        rows += session.scalars(query.where(Item.sort_at < when)
                                .order_by(Item.sort_at.desc(), Item.id.desc())
                                .limit(limit - len(rows)))
    return rows


def list_items(
    session: Session, filters: ItemFilters, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[Item], str | None]:
    """Items newest first (items without a date last), and the cursor of the next page.

    Keyset pagination on (sort_at, id): pages stay stable while items arrive, and cost the
    same at any depth.
    """
    after = _decode_cursor(cursor) if cursor else None
    rows = _page(session, filters, after, limit + 1)
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def iter_item_pages(session: Session, filters: ItemFilters, *,
                    page_size: int = 1000) -> Iterator[list[Item]]:
    """Every item ``filters`` select, in listing order, ``page_size`` at a time: an export
    holds one page in memory (the session forgets each page once it is handed on)."""
    after: tuple[datetime, int] | None = None
    while True:
        rows = _page(session, filters, after, page_size)
        if not rows:
            return
        after = (rows[-1].sort_at, rows[-1].id)
        yield rows
        for row in rows:
            session.expunge(row)
        if len(rows) < page_size:
            return
