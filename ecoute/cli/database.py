"""``ecoute db ...``: the database schema."""

from __future__ import annotations

import typer

from ecoute.cli._common import out
from ecoute.config.settings import get_settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or update the database schema (safe to run at every start)."""
    from ecoute.store.authorities import ensure_authority
    from ecoute.store.db import (
        current_revision,
        make_engine,
        make_session_factory,
        session_scope,
        upgrade,
    )

    settings = get_settings()
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    upgrade(engine)
    # The default authority exists from the start, so that commands naming none just work.
    with session_scope(make_session_factory(engine)) as session:
        ensure_authority(session, settings.default_authority)
    out.print(f"database at revision {current_revision(engine)}: "
              f"{engine.url.render_as_string(hide_password=True)}")
