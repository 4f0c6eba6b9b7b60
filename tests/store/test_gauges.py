"""The item counters equal a count of the item table: items are added through
``insert_items``, and triggers take off what is deleted or moved, whoever does it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from ecoute.store import gauges
from ecoute.store.authorities import ensure_authority
from ecoute.store.items import insert_items
from ecoute.store.db import session_scope
from ecoute.store.models import Authority, DailyRollup, Item, ItemCount, Source
from ecoute.store.sources import add_source, delete_source, list_sources
from ecoute.store.taggings import Counts, _apply


def _counted(session: Session) -> dict[tuple[int, str], int]:
    return {(s, c): n for s, c, n in gauges.items_per_source_channel(session)}


def _grouped(session: Session) -> dict[tuple[int, str], int]:
    return {(s, c): n for s, c, n in session.execute(
        select(Item.source_id, Item.channel, func.count()).group_by(Item.source_id,
                                                                    Item.channel))}


def _items(authority_id: int, source_id: int, channel: str, n: int, start: int = 0
           ) -> list[dict[str, object]]:
    return [{"authority_id": authority_id, "source_id": source_id, "external_id": f"{channel}-{i}",
                 "content_hash": f"h{i}", "channel": channel, "text": "t", "extra": {}}
            for i in range(start, start + n)]


def test_counters_follow_inserts_moves_deletes_and_cascades(
    factory: sessionmaker[Session],
) -> None:
    with session_scope(factory) as session:
        authority = ensure_authority(session, "demo")
        a = add_source(session, authority.id, name="a", kind="rss", options={})
        b = add_source(session, authority.id, name="b", kind="rss", options={})
        insert_items(session, _items(authority.id, a.id, "review", 5)
                  + _items(authority.id, a.id, "social", 2))
        insert_items(session, _items(authority.id, b.id, "phone", 3))
        insert_items(session, [])
        assert _counted(session) == _grouped(session) == {
            (a.id, "review"): 5, (a.id, "social"): 2, (b.id, "phone"): 3}
        # An item moved to another channel or source, then some deleted.
        session.execute(update(Item).where(Item.external_id == "review-0")
                        .values(channel="email"))
        session.execute(update(Item).where(Item.external_id == "social-0")
                        .values(source_id=b.id))
        session.execute(delete(Item).where(Item.external_id.in_(["review-1", "phone-2"])))
        assert _counted(session) == _grouped(session) == {
            (a.id, "review"): 3, (a.id, "email"): 1, (a.id, "social"): 1,
            (b.id, "social"): 1, (b.id, "phone"): 2}
        assert {s.id: n for s, n in list_sources(session, authority.id)} == {
            a.id: 5, b.id: 3}
        assert gauges.items_per_source(session, [a.id, b.id]) == {a.id: 5, b.id: 3}
        delete_source(session, a.id)
        assert _counted(session) == _grouped(session) == {(b.id, "social"): 1,
                                                          (b.id, "phone"): 2}
        assert session.scalar(select(func.count()).select_from(ItemCount)
                              .where(ItemCount.source_id == a.id)) == 0
    with session_scope(factory) as session:
        # Deleting the authority cascades to sources and items in the database itself.
        session.execute(delete(Source).where(Source.id == b.id))
        assert _counted(session) == _grouped(session) == {}
        session.execute(delete(Authority))


def test_batched_rollup_upserts_add_to_existing_rows(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        authority = ensure_authority(session, "demo")
        day = date(2026, 3, 1)
        first = {(authority.id, day, "courtesy", "review", 0, 0, 0, ""): Counts(pos=2, neg=1),
                 (authority.id, day, "_overall", "review", 0, 0, 0, ""): Counts(
                     pos=1, rating_sum=0.5, rating_count=1)}
        _apply(session, first)
        second = {(authority.id, day, "courtesy", "review", 0, 0, 0, ""): Counts(pos=-1, neu=3),
                  (authority.id, day, "courtesy", "phone", 0, 0, 0, ""): Counts(neg=4),
                  (authority.id, day, "waiting_time", "review", 0, 0, 0, ""): Counts()}
        _apply(session, second)
        rows = {(r.determinant, r.channel): (r.pos, r.neg, r.neu, r.rating_sum, r.rating_count)
                for r in session.scalars(select(DailyRollup))}
    assert rows == {("courtesy", "review"): (1, 1, 3, 0.0, 0),
                    ("_overall", "review"): (1, 0, 0, 0.5, 1),
                    ("courtesy", "phone"): (0, 4, 0, 0.0, 0)}
