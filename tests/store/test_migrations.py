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
