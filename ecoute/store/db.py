"""Engine and session factory, migrations.

No module-level engine: callers build one from settings (``make_engine``) and pass it or a
session factory down. Services never commit; the job or request boundary does, through
``session_scope``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ecoute.errors import SchemaOutOfDate, StoreError
from ecoute.store.search import SQLITE_FOLD, fold

if TYPE_CHECKING:
    from ecoute.config.settings import Settings

MIGRATIONS = str(files("ecoute.store") / "migrations")


def make_engine(url: str, *, busy_timeout_ms: int = 5000, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": busy_timeout_ms / 1000}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Python's sqlite3 opens transactions lazily and lets SELECT read without one;
            # we take over BEGIN so that writers lock early instead of failing at COMMIT.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            # Item search folds case and accents on both databases (store.search).
            dbapi_conn.create_function(SQLITE_FOLD, 1, fold, deterministic=True)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers that read before writing (the runner, the classify worker) ask for
            # IMMEDIATE: a deferred transaction whose snapshot went stale while another
            # connection committed fails at its first write without waiting (SQLITE_BUSY).
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def open_store(settings: Settings, *, check: bool = True) -> Engine:
    """The engine of the configured database; with ``check``, refuses a database whose schema
    is not the one this code expects (``ecoute db upgrade`` fixes it)."""
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    if check:
        check_schema(engine)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def make_writer_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for background writers that run next to each other in one process: on
    SQLite they take the write lock when they begin (and wait for it up to the busy
    timeout) instead of failing midway; elsewhere the same as ``make_session_factory``."""
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_immediate=True)
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (the only way the schema is created)."""
    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        raise StoreError(
            f"cannot migrate the database at {engine.url.render_as_string()}: {exc.orig}",
            hint="check ECOUTE_DATABASE_URL and that the database server is running",
        ) from exc


def current_revision(bind: Engine | Connection) -> str | None:
    if isinstance(bind, Connection):
        return MigrationContext.configure(bind).get_current_revision()
    with bind.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(cfg).get_current_head()


def check_schema(bind: Engine | Connection) -> str | None:
    """Refuse to work on a database whose schema is not the one this code expects; returns
    its revision."""
    try:
        current = current_revision(bind)
    except OperationalError as exc:
        raise StoreError(
            f"cannot open the database at {bind.engine.url.render_as_string()}: {exc.orig}",
            hint="check ECOUTE_DATABASE_URL and that the database server is running",
        ) from exc
    head = head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"the database schema is at revision {current or 'none'}, this ecoute needs {head}",
            hint="run `ecoute db upgrade`",
        )
    return current
