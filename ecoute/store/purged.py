"""Tombstones of purged items (``PurgedItem``): written by retention and erasure, read by the
runner so that a source still offering a purged item does not bring it back.

A tombstone holds the source, the SHA-256 of the external id and the item's content hash: what
the runner compares, and nothing a reader could use. It is never purged itself: as long as the
source may offer the item again, it must be recognised (one short row per purged item).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from ecoute.store.models import Item, PurgedItem, utcnow

_CHUNK = 500


def external_key(external_id: str) -> str:
    """What a tombstone keeps of an external id (as stored: at most 512 characters)."""
    return hashlib.sha256(external_id[:512].encode("utf-8", "surrogatepass")).hexdigest()


def remember_purged(
    session: Session, items: Iterable[tuple[int, str, str]], *, now: datetime | None = None
) -> int:
    """Record tombstones for ``(source_id, external_id, content_hash)`` of items about to be
    deleted; an item already remembered is skipped. Returns how many were added."""
    now = now or utcnow()
    wanted: dict[tuple[int, str], str] = {
        (source_id, external_key(external_id)): digest
        for source_id, external_id, digest in items
    }
    keys = list(wanted)
    added = 0
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        known = {(row.source_id, row.external_key) for row in session.execute(
            select(PurgedItem.source_id, PurgedItem.external_key)
            .where(tuple_(PurgedItem.source_id, PurgedItem.external_key).in_(chunk)))}
        rows = [dict(source_id=source_id, external_key=key, content_hash=wanted[source_id, key],
                     purged_at=now)
                for source_id, key in chunk if (source_id, key) not in known]
        if rows:
            session.execute(insert(PurgedItem), rows)
            added += len(rows)
    return added


def remember_items(session: Session, ids: list[int], *, now: datetime | None = None) -> int:
    """Tombstones for the items ``ids`` (read from the store before they are deleted)."""
    found: list[tuple[int, str, str]] = []
    for start in range(0, len(ids), _CHUNK):
        found += [(row.source_id, row.external_id, row.content_hash) for row in session.execute(
            select(Item.source_id, Item.external_id, Item.content_hash)
            .where(Item.id.in_(ids[start : start + _CHUNK])))]
    return remember_purged(session, found, now=now)


def purged_among(
    session: Session, source_id: int, external_ids: Iterable[str], hashes: Iterable[str]
) -> tuple[set[str], set[str]]:
    """Of ``external_ids`` and content ``hashes`` offered by a source, those that belong to a
    purged item: (external ids, content hashes)."""
    # Most sources never lost an item: one index probe spares hashing every external id.
    if session.scalar(select(PurgedItem.id).where(PurgedItem.source_id == source_id)
                      .limit(1)) is None:
        return set(), set()
    by_key = {external_key(e): e for e in external_ids}
    keys, digests = list(by_key), list(set(hashes))
    ids: set[str] = set()
    found_hashes: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        ids.update(by_key[k] for k in session.scalars(
            select(PurgedItem.external_key).where(
                PurgedItem.source_id == source_id,
                PurgedItem.external_key.in_(keys[start : start + _CHUNK]))))
    for start in range(0, len(digests), _CHUNK):
        found_hashes.update(session.scalars(
            select(PurgedItem.content_hash).where(
                PurgedItem.source_id == source_id,
                PurgedItem.content_hash.in_(digests[start : start + _CHUNK]))))
    return ids, found_hashes
