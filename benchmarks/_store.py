"""The store a benchmark measures: a SQLite file, or a schema of its own on a PostgreSQL
database that may be shared with the tests, made before and dropped after; either one built by
the real migrations.

The schema is named in the engine's URL (``options=-csearch_path=...``) rather than in connect
arguments, so that ``engine.url`` also reaches it from another process (bench_workers)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import Engine, make_url, text

from ecoute.store.db import make_engine, upgrade


@contextmanager
def bench_store(
    postgres_url: str | None = None, folder: Path | None = None, *, migrate: bool = True
) -> Iterator[Engine]:
    """An engine on a fresh schema of ``postgres_url`` or, without one, on ``bench.db`` in
    ``folder`` (by default a temporary folder removed after).

    ``migrate=False`` leaves the migrations to the benchmark, for one that counts them in its
    build time."""
    if postgres_url is None:
        with ExitStack() as stack:
            if folder is None:
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
            stack.callback(engine.dispose)
            if migrate:
                upgrade(engine)
            yield engine
        return
    url = make_url(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url.render_as_string(hide_password=False))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        engine = make_engine(
            url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
                hide_password=False
            )
        )
        try:
            if migrate:
                upgrade(engine)
            yield engine
        finally:
            engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def store_url(engine: Engine) -> str:
    """The URL of ``engine`` with its password, for settings or another process."""
    return engine.url.render_as_string(hide_password=False)
