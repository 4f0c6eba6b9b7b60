"""``ecoute sources set|enable|disable|remove``: change or remove a registered source."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from ecoute.config.settings import get_settings

out = Console()

NameArg = Annotated[str, typer.Argument(help="Source name (`ecoute sources list`).")]
AuthorityOpt = Annotated[
    str | None, typer.Option("--authority", "-a", help="Authority slug (default: the setting).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def session_factory() -> Any:
    """A session factory on the configured database, refusing an unmigrated one."""
    from ecoute.store.db import check_schema, make_engine, make_session_factory

    settings = get_settings()
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    check_schema(engine)
    return make_session_factory(engine)


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))


def sources_set(
    name: NameArg,
    option: Annotated[
        list[str] | None, typer.Option(
            "--option", "-o", help="key=value, repeatable; `key=` puts the option back to "
            "its default.")
    ] = None,
    schedule: Annotated[str | None, typer.Option(help="e.g. 'every 30 minutes'.")] = None,
    authority: AuthorityOpt = None,
) -> None:
    """Change a source's options or schedule; checked as when it was added."""
    from ecoute.collectors.sources import change_source, find_source, parse_option_pairs
    from ecoute.store.db import session_scope

    options: dict[str, Any] = {
        key: (None if value == "" else value)
        for key, value in parse_option_pairs(option or []).items()
    }
    settings = get_settings()
    with session_scope(session_factory()) as session:
        source = find_source(session, authority or settings.default_authority, name)
        change_source(session, source, options=options, schedule=schedule)
        out.print(f"source {name!r} changed: schedule {source.schedule!r}, options "
                  f"{json.dumps(source.options, ensure_ascii=False)}", highlight=False)


def _set_enabled(name: str, authority: str | None, enabled: bool) -> None:
    from ecoute.collectors.sources import change_source, find_source
    from ecoute.store.db import session_scope

    settings = get_settings()
    with session_scope(session_factory()) as session:
        source = find_source(session, authority or settings.default_authority, name)
        change_source(session, source, enabled=enabled)
    out.print(f"source {name!r} {'enabled' if enabled else 'disabled'}")


def sources_enable(name: NameArg, authority: AuthorityOpt = None) -> None:
    """Collect a source again on its schedule."""
    _set_enabled(name, authority, True)


def sources_disable(name: NameArg, authority: AuthorityOpt = None) -> None:
    """Stop collecting a source (its items and settings are kept)."""
    _set_enabled(name, authority, False)


def sources_remove(
    name: NameArg,
    keep_items: Annotated[bool, typer.Option(
        "--keep-items", help="Keep its items and their figures; the source stays, disabled "
        "and hidden, as their origin, and its name is free again.")] = False,
    authority: AuthorityOpt = None,
) -> None:
    """Remove a source and, unless --keep-items, its items (and their figures)."""
    from ecoute.collectors.sources import find_source, remove_source
    from ecoute.store.db import session_scope

    settings = get_settings()
    with session_scope(session_factory()) as session:
        source = find_source(session, authority or settings.default_authority, name)
        deleted = remove_source(session, source, keep_items=keep_items)
    if keep_items:
        out.print(f"source {name!r} removed; its items are kept")
    else:
        out.print(f"source {name!r} removed with its {deleted} item(s)")
