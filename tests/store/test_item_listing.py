"""Listing items: keyset pages over the never-null sort key, the filters, the search that
folds case and accents; on SQLite and PostgreSQL, on the schema the migrations build."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, event, select, text
from sqlalchemy.orm import Session, sessionmaker

from ecoute.store.authorities import ensure_authority
from ecoute.store.db import alembic_config, session_scope, upgrade
from ecoute.store.item_listing import ItemFilters, iter_item_pages, list_items
from ecoute.store.items import ItemChange, apply_updates, insert_items
from ecoute.store.models import NO_DATE, Item, Source, Tagging, utcnow
from ecoute.store.search import fold

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def _source(session: Session, slug: str = "town") -> Source:
    authority = ensure_authority(session, slug)
    source = Source(authority_id=authority.id, kind="push", name="pushed", options={},
                    schedule="manual")
    session.add(source)
    session.flush()
    return source


def _row(source: Source, n: int, published_at: datetime | None, text: str = "",
         **more: object) -> dict[str, object]:
    return dict(authority_id=source.authority_id, source_id=source.id, external_id=f"x-{n}",
                content_hash=f"{n:064d}", channel="review", text=text or f"text {n}",
                published_at=published_at, collected_at=utcnow(), extra={}, **more)


def _all_pages(session: Session, filters: ItemFilters, limit: int) -> list[int]:
    seen, cursor = [], None
    while True:
        items, cursor = list_items(session, filters, limit=limit, cursor=cursor)
        seen += [i.id for i in items]
        if cursor is None:
            return seen


#: Dates on a coarse grid, so that many items share one and the id breaks the tie.
DATES = st.one_of(st.none(), st.integers(0, 6).map(lambda d: T0 + timedelta(hours=d)))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dates=st.lists(DATES, max_size=30), limit=st.integers(1, 7),
       since=st.one_of(st.none(), st.integers(0, 6)), until=st.one_of(st.none(), st.integers(0, 7)))
def test_pages_hold_every_item_once_newest_first_undated_last(
    factory: sessionmaker[Session], dates: list[datetime | None], limit: int,
    since: int | None, until: int | None,
) -> None:
    with session_scope(factory) as session:
        session.execute(delete(Item))
        session.execute(delete(Source))
        source = _source(session)
        insert_items(session, [_row(source, n, d) for n, d in enumerate(dates)])
        rows = session.execute(select(Item.id, Item.published_at)).all()
        filters = ItemFilters(
            authority_id=source.authority_id,
            since=T0 + timedelta(hours=since) if since is not None else None,
            until=T0 + timedelta(hours=until) if until is not None else None)
        kept = [(i, d) for i, d in rows if (filters.since is None or (d and d >= filters.since))
                and (filters.until is None or (d and d < filters.until))]
        expected = [i for i, _d in sorted(kept, key=lambda r: (r[1] or NO_DATE, r[0]),
                                          reverse=True)]
        assert _all_pages(session, filters, limit) == expected
        exported = [i.id for page in iter_item_pages(session, filters, page_size=limit)
                    for i in page]
        assert exported == expected


def test_sort_key_follows_the_date_when_a_source_changes_it(
        factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        source = _source(session)
        insert_items(session, [_row(source, 1, None), _row(source, 2, T0)])
        session.add(Item(**_row(source, 3, T0 + timedelta(days=1))))  # the ORM's default
        session.flush()
        undated, dated, orm = session.scalars(select(Item).order_by(Item.id)).all()
        assert (undated.sort_at, dated.sort_at, orm.sort_at) == (
            NO_DATE, T0, T0 + timedelta(days=1))
        apply_updates(session, [(undated, ItemChange(
            content_hash="f" * 64, title=None, text="now dated", published_at=T0 - timedelta(1),
            rating_value=None, rating_scale=None, rating_norm=None, extra={}))])
        session.flush()
        session.expire_all()
        assert undated.sort_at == T0 - timedelta(days=1)
        ids = [i.id for i in list_items(session, ItemFilters(source.authority_id))[0]]
        assert ids == [orm.id, dated.id, undated.id]


def test_the_migration_gives_existing_items_their_key(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "followup")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO authority (slug, name, timezone, locale, created_at) "
                          "VALUES ('old', 'Old', 'Europe/Paris', 'fr', :t)"), {"t": T0})
        conn.execute(text("INSERT INTO source (authority_id, kind, name, options, enabled, "
                          "cursor, consecutive_failures, created_at) SELECT id, 'push', 'p', "
                          "'{}', true, '{}', 0, :t FROM authority"), {"t": T0})
        for n, when in enumerate([T0, None, T0 + timedelta(hours=1)]):
            conn.execute(text(
                "INSERT INTO item (authority_id, source_id, external_id, content_hash, channel,"
                " text, published_at, collected_at, extra) SELECT authority_id, id, :e, :h, "
                "'review', 'x', :p, :t, '{}' FROM source"),
                {"e": f"e{n}", "h": f"{n:064d}", "p": when, "t": T0})
    upgrade(engine)
    with Session(engine) as session:
        keys = session.execute(select(Item.external_id, Item.sort_at).order_by(Item.id)).all()
        assert keys == [("e0", T0), ("e1", NO_DATE), ("e2", T0 + timedelta(hours=1))]
        owner = session.scalar(select(Item.authority_id))
        assert [i.external_id for i in list_items(session, ItemFilters(owner))[0]] == [
            "e2", "e0", "e1"]


def test_search_ignores_case_and_accents_and_wants_every_word(
        factory: sessionmaker[Session]) -> None:
    texts = ["Réclamation à l'ACCUEIL de la mairie", "Accueil chaleureux", "Zürich: 100% ok_",
             "Œuvre citée", "Straße fermée"]
    with session_scope(factory) as session:
        source = _source(session)
        # One executemany takes the columns of its first row: each row names the title.
        insert_items(session, [_row(source, n, T0, t, title=None) for n, t in enumerate(texts)]
                     + [_row(source, 9, T0, "rien", title="Une RÉCLAMATION au titre")])

        def found(query: str) -> set[str]:
            items, _ = list_items(session, ItemFilters(source.authority_id, text=query))
            return {i.text for i in items}

        assert found("reclamation") == found("RÉCLAMATION") == {texts[0], "rien"}
        assert found("accueil") == {texts[0], texts[1]}
        assert found("accueil MAIRIE") == {texts[0]}
        assert found("zurich 100%") == {texts[2]}
        assert found("100_") == set() and found("ok_") == {texts[2]}
        assert found("fermee") == {texts[4]}
        assert found("absent accueil") == set()


@pytest.mark.parametrize("value", ["Éléonore ÇA", "ÀÉÎÕÜ àéîõü ÿ Ø ł", "plain ASCII"])
def test_the_fold_keeps_the_length_and_drops_case_and_accents(value: str) -> None:
    folded = fold(value)
    assert folded is not None and len(folded) == len(value)
    assert folded == folded.lower() and folded.isascii() == all(
        c.isascii() or c in "ÉÇÀÎÕÜàéîõüÿØł" for c in value)


def test_sentiment_is_the_officers_else_the_models(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        source = _source(session)
        insert_items(session, [_row(source, n, T0, classified_version="m@1")
                               for n in range(3)])
        first, second, third = session.scalars(select(Item).order_by(Item.id)).all()
        for item, said in ((first, "negative"), (second, "negative"), (third, "positive")):
            session.add(Tagging(item_id=item.id, model_name="m", model_version="m@1",
                                sentiment=said, p_negative=0.0, p_neutral=0.0, p_positive=0.0))
        # An older model's reading is not the item's.
        session.add(Tagging(item_id=third.id, model_name="m", model_version="m@0",
                            sentiment="negative", p_negative=0.0, p_neutral=0.0, p_positive=0.0))
        second.human_sentiment = "positive"
        session.flush()

        def ids(sentiment: str) -> set[int]:
            items, _ = list_items(session, ItemFilters(source.authority_id, sentiment=sentiment))
            return {i.id for i in items}

        assert ids("negative") == {first.id}
        assert ids("positive") == {second.id, third.id}
        assert ids("neutral") == set()


def test_filters_stay_in_the_authority(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        ours, theirs = _source(session, "ours"), _source(session, "theirs")
        insert_items(session, [_row(ours, 1, T0, "accueil", lang="fr")])
        insert_items(session, [_row(theirs, 2, T0, "accueil", lang="fr")])
        items, _ = list_items(session, ItemFilters(ours.authority_id, text="accueil", lang="fr"))
        assert [i.source_id for i in items] == [ours.id]


def test_a_page_walks_the_listing_index(engine: Engine, factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        source = _source(session)
        insert_items(session, [_row(source, n, T0 + timedelta(minutes=n % 50) if n % 7 else None)
                               for n in range(400)])
        _items, cursor = list_items(session, ItemFilters(source.authority_id), limit=100)
    assert cursor is not None
    sent: list[tuple[str, object]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: object,
               *_args: object) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with session_scope(factory) as session:
            list_items(session, ItemFilters(source.authority_id), limit=50, cursor=cursor)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    pages = [(s, p) for s, p in sent if "ORDER BY" in s]
    assert pages
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE item")
            # Small tables make other plans cheaper: forbid them, to see whether the index
            # alone can give the rows in order (a Sort left in the plan says it cannot).
            for kind in ("seqscan", "bitmapscan", "sort"):
                conn.exec_driver_sql(f"SET enable_{kind} = off")
        for statement, parameters in pages:
            if engine.dialect.name == "sqlite":
                plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters))  # type: ignore[arg-type]
                assert "ix_item_authority_sort" in plan and "TEMP B-TREE" not in plan, plan
            else:
                plan = " ".join(str(r[0]) for r in conn.exec_driver_sql(
                    f"EXPLAIN {statement}", parameters))  # type: ignore[arg-type]
                assert "ix_item_authority_sort" in plan and "Sort" not in plan, plan


def test_a_page_among_many_items_of_one_date_reads_only_its_rows(
        sqlite_engine: Engine) -> None:
    """SQLite bounds a row-value cursor on its first column only and would step over every
    undated item above the cursor: the work of a page must not grow with them."""
    factory = sessionmaker(sqlite_engine, expire_on_commit=False)
    with session_scope(factory) as session:
        source = _source(session)
        insert_items(session, [_row(source, n, None) for n in range(6000)])
    filters = ItemFilters(source.authority_id)
    work = []
    with sqlite_engine.connect() as conn:
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0

        conn.connection.dbapi_connection.set_progress_handler(count, 100)  # type: ignore[union-attr]
        session = Session(bind=conn)
        cursor = None
        for page in range(60):
            steps[0] = 0
            items, cursor = list_items(session, filters, limit=50, cursor=cursor)
            assert len(items) == 50
            if page in (1, 59):
                work.append(steps[0])
    # From the second page to the sixtieth, 2,900 more undated items stand above the cursor.
    assert work[1] < 2 * work[0] + 10, work
