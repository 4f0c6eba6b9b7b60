"""The classify queue: one definition of a pending item, asked in a form indexes answer."""

from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.items import (
    _PARTS,
    _part_params,
    latest_model_version,
    needs_classifier,
    pending_count,
    pending_item_ids,
)
from ecoute.domain import STATED
from ecoute.store.models import Item, Source, Tagging, utcnow

#: Versions an item may carry: two models, the source's own verdict, never classified.
VERSIONS = [None, "e5@1", "e5@2", STATED, "zz@9", "a@0"]


def _items(factory: sessionmaker[Session], versions: list[str | None],
           authorities: int = 2) -> list[tuple[int, int]]:
    """One item per version, spread over ``authorities``; (item id, authority id) each."""
    with session_scope(factory) as session:
        owners = [ensure_authority(session, f"town-{n}").id for n in range(authorities)]
        sources = {}
        for owner in owners:
            source = Source(authority_id=owner, kind="push", name="pushed", options={},
                            schedule="manual")
            session.add(source)
            session.flush()
            sources[owner] = source.id
        rows = [dict(authority_id=owners[n % authorities],
                     source_id=sources[owners[n % authorities]], external_id=f"x-{n}",
                     content_hash=f"{n:064d}", channel="review", text=f"text {n}",
                     collected_at=utcnow(), classified_version=version, extra={})
                for n, version in enumerate(versions)]
        session.execute(insert(Item), rows)
        return [(i.id, i.authority_id) for i in session.scalars(select(Item).order_by(Item.id))]


def _naive(session: Session, version: str, authority_id: int | None = None) -> set[int]:
    query = select(Item.id).where(needs_classifier(version))
    if authority_id is not None:
        query = query.where(Item.authority_id == authority_id)
    return set(session.scalars(query))


@pytest.mark.parametrize("seed", range(6))
def test_the_indexed_queue_holds_exactly_the_pending_items(
    factory: sessionmaker[Session], seed: int
) -> None:
    rng = random.Random(seed)
    versions = [rng.choice(VERSIONS) for _ in range(rng.randint(0, 40))]
    items = _items(factory, versions, authorities=rng.randint(1, 3))
    with session_scope(factory) as session:
        for version in ("e5@1", "e5@2", "zz@9", "a@0", "m@5", STATED):
            expected = _naive(session, version)
            taken = pending_item_ids(session, version, limit=1000)
            assert len(taken) == len(set(taken)) and set(taken) == expected, version
            assert pending_count(session, version) == len(expected)
            for authority in {a for _i, a in items}:
                mine = _naive(session, version, authority)
                assert set(pending_item_ids(session, version, limit=1000,
                                            authority_id=authority)) == mine
                assert pending_count(session, version, authority_id=authority) == len(mine)
            for limit in (1, 3):
                part = pending_item_ids(session, version, limit=limit)
                assert len(part) == min(limit, len(expected)) and set(part) <= expected


def test_never_classified_items_come_first_oldest_first(factory: sessionmaker[Session]) -> None:
    items = _items(factory, ["e5@1", None, "e5@1", None, None], authorities=1)
    ids = [i for i, _a in items]
    with session_scope(factory) as session:
        assert pending_item_ids(session, "e5@2", limit=3) == [ids[1], ids[3], ids[4]]
        assert pending_item_ids(session, "e5@2", limit=10)[3:] == sorted([ids[0], ids[2]])
        # Nothing pending once everything carries the version or the source's verdict.
        session.execute(update(Item).values(classified_version="e5@2"))
        session.execute(update(Item).where(Item.id == ids[0]).values(classified_version=STATED))
        assert pending_item_ids(session, "e5@2", limit=10) == []
        assert pending_count(session, "e5@2") == 0
        assert pending_count(session, None) == 0


def test_each_part_of_the_queue_is_read_from_an_index(engine: Engine) -> None:
    """No part of the poll scans the item table, whatever the planner's statistics say."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if not sqlite:
            conn.execute(text("SET enable_seqscan = off"))
        for part in _PARTS:
            query = part.params(_part_params("e5@2", 1))
            sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            plan = "\n".join(str(row) for row in conn.execute(text(explain + sql)))
            # SQLite: SEARCH reads a range, SCAN the whole table or index.
            assert "SCAN" not in plan and "Seq Scan" not in plan, plan
            # The range is bounded by the version too, not only by the authority (all of
            # whose items a worker would otherwise read at every poll).
            bounded = r"authority_id=\? AND classified_version[<>=]" if sqlite \
                else r"Index Cond: [^\n]*classified_version"
            assert "ix_item_unclassified" in plan or re.search(bounded, plan), plan


def test_the_latest_model_version_is_the_one_that_tagged_last(
    factory: sessionmaker[Session],
) -> None:
    items = _items(factory, ["e5@1", "e5@2", STATED, "e5@1"], authorities=1)
    with session_scope(factory) as session:
        authority = items[0][1]
        assert latest_model_version(session, authority) is None
        for (item_id, _a), version in zip(items, ["e5@1", "e5@2", STATED], strict=False):
            session.add(Tagging(item_id=item_id, model_name="m", model_version=version,
                                sentiment="neutral", p_negative=0, p_neutral=1, p_positive=0))
            session.flush()
        # The source's own verdicts are no model's.
        assert latest_model_version(session, authority) == "e5@2"
        assert pending_count(session, "e5@2", authority_id=authority) == 2
        assert session.scalar(select(func.count()).select_from(Item)) == 4
