"""The migrations are the schema: they build it on both databases and match the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from ecoute.store.db import alembic_config, current_revision, head_revision, upgrade
from ecoute.store.models import Authority, Base, Source


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                 Base.metadata)
    assert diffs == []


def test_downgrade_to_nothing_and_back(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "base")
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade(engine)
    assert {"item", "source", "daily_rollup", "tagging"} <= set(inspect(engine).get_table_names())


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_ingest_sources_become_manual_and_forget_their_spool_folder(engine: Engine) -> None:
    # The tables this data migration reads have the same columns before and after it.
    command.downgrade(alembic_config(engine), "classify_queue")
    with Session(engine) as session, session.begin():
        authority = Authority(slug="valmont", name="Valmont", timezone="Europe/Paris",
                              locale="fr")
        session.add(authority)
        session.flush()
        for name, options, schedule in [
            ("push ek_ab12", {"path": "/var/lib/ecoute/spool/valmont/ek_ab12",
                              "channel": "email"}, "every 1 day"),
            # Made by hand to read a folder of exports: left as it is.
            ("exports", {"path": "/srv/exports"}, "every 1 day"),
            ("push ek_cd34", {"path": "/var/lib/ecoute/spool/valmont/ek_cd34"}, "every 2 hours"),
        ]:
            session.add(Source(authority_id=authority.id, kind="push", name=name,
                               options=options, schedule=schedule))
    upgrade(engine)
    with Session(engine) as session:
        rows = {s.name: (s.options, s.schedule) for s in session.scalars(select(Source))}
    assert rows == {"push ek_ab12": ({"channel": "email"}, "manual"),
                    "exports": ({"path": "/srv/exports"}, "every 1 day"),
                    "push ek_cd34": ({}, "every 2 hours")}


def test_handling_dates_are_filled_from_what_collectors_kept_in_extra(engine: Engine) -> None:
    """Migration handling_dates types the dates of items stored before it."""
    from datetime import UTC, datetime

    from sqlalchemy import JSON, Boolean, DateTime, Integer, String, column, insert, select, table

    from ecoute.store.db import make_session_factory, session_scope
    from ecoute.store.models import Authority, Item, Source

    command.downgrade(alembic_config(engine), "item_counts")
    source = table("source", column("id", Integer), column("authority_id", Integer),
                   column("kind", String), column("name", String), column("options", JSON),
                   column("cursor", JSON), column("enabled", Boolean),
                   column("consecutive_failures", Integer),
                   column("created_at", DateTime(timezone=True)))
    item = table("item", *(column(name, String) for name in (
        "external_id", "content_hash", "channel", "text")), column("extra", JSON),
        column("authority_id", Integer), column("source_id", Integer),
        column("published_at", DateTime(timezone=True)),
        column("collected_at", DateTime(timezone=True)))
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with engine.begin() as conn:
        authority = conn.execute(insert(Authority.__table__).values(
            slug="demo", name="demo", timezone="Europe/Paris", locale="fr",
            created_at=now)).inserted_primary_key[0]
        kinds = {}
        for n, kind in enumerate(("open311", "complaint_log", "rss")):
            kinds[kind] = conn.execute(insert(source).values(
                authority_id=authority, kind=kind, name=kind, options={}, cursor={},
                enabled=True, consecutive_failures=0, created_at=now).returning(
                    source.c.id)).scalar_one()
            assert kinds[kind] == n + 1
        base = {"authority_id": authority, "content_hash": "h", "text": "t",
                "collected_at": now, "published_at": datetime(2026, 2, 2, 8, tzinfo=UTC)}
        conn.execute(insert(item), [
            {**base, "source_id": kinds["open311"], "external_id": "closed",
             "channel": "service_request",
             "extra": {"status": "closed", "status_notes": None,
                       "requested_datetime": "2026-02-02T09:00:00+01:00",
                       "updated_datetime": "2026-02-05T10:00:00+00:00"}},
            {**base, "source_id": kinds["open311"], "external_id": "noted",
             "channel": "service_request",
             "extra": {"status": "open", "status_notes": "On it",
                       "requested_datetime": "2026-02-02T09:00:00Z",
                       "updated_datetime": "2026-02-03T10:00:00Z"}},
            {**base, "source_id": kinds["complaint_log"], "external_id": "answered",
             "channel": "complaint",
             "extra": {"status": "clos", "response_date": "2026-02-04T23:00:00+00:00"}},
            {**base, "source_id": kinds["complaint_log"], "external_id": "untracked",
             "channel": "complaint", "extra": {"file": "a.csv"}},
            {**base, "source_id": kinds["rss"], "external_id": "review", "channel": "review",
             "extra": {"status": "closed"}},
        ])
    upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        got = {i.external_id: (i.received_at, i.answered_at, i.closed_at)
               for i in session.scalars(select(Item))}
        assert session.scalar(select(Source.id).where(Source.kind == "rss"))
    feb = [datetime(2026, 2, day, hour, tzinfo=UTC) for day, hour in ((2, 8), (3, 10), (5, 10),
                                                                       (4, 23), (2, 9))]
    assert got == {"closed": (feb[0], feb[2], feb[2]), "noted": (feb[4], feb[1], None),
                   "answered": (feb[0], feb[3], feb[3]), "untracked": (None, None, None),
                   "review": (None, None, None)}
