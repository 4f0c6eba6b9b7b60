"""``ecoute sources ...``: register, list, run, try, change and remove feedback sources."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from ecoute.cli._common import (
    AuthorityOpt,
    JsonOpt,
    SourceNameArg,
    out,
    print_json,
    print_run_report,
    report_dict,
    session_factory,
)
from ecoute.config.settings import get_settings
from ecoute.errors import EcouteError

sources_app = typer.Typer(
    help="Feedback sources: add, list, run, test, set, enable, disable, remove.",
    no_args_is_help=True,
)


@sources_app.command("add")
def sources_add(
    name: Annotated[str, typer.Argument(help="A name for the source, unique per authority.")],
    kind: Annotated[str, typer.Option("--kind", "-k", help="Collector kind (`ecoute collectors`).")],
    option: Annotated[
        list[str] | None, typer.Option("--option", "-o", help="key=value, repeatable.")
    ] = None,
    schedule: Annotated[str | None, typer.Option(help="e.g. 'every 30 minutes'.")] = None,
    site: Annotated[str | None, typer.Option(help="Site its items belong to.")] = None,
    department: Annotated[str | None, typer.Option(help="Department its items belong to.")]
    = None,
    authority: AuthorityOpt = None,
) -> None:
    """Register a source; its options are checked against its collector."""
    from ecoute.collectors.service import add_source, parse_option_pairs
    from ecoute.store.db import session_scope

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        source = add_source(
            session, authority=authority or settings.default_authority, name=name, kind=kind,
            options=parse_option_pairs(option or []), schedule=schedule, site=site,
            department=department,
        )
        out.print(f"source {source.name!r} ({source.kind}) added, id {source.id}")


@sources_app.command("list")
def sources_list(authority: AuthorityOpt = None, as_json: JsonOpt = False) -> None:
    """Sources with their health: last success, last error, items collected, back-off."""
    from ecoute.collectors.service import source_views
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        rows = [view.as_dict() for view in source_views(session, settings, owner.id)]
    if as_json:
        print_json(rows)
        return
    table = Table("name", "kind", "items", "last success", "health", "last error")
    for r in rows:
        when, retry = r["last_success_at"], r["backing_off_until"]
        health = r["health"]
        if r["consecutive_failures"]:
            health += f" ({r['consecutive_failures']} failure(s) in a row)"
        if retry is not None:
            health = f"[red]{health}, next try {retry:%Y-%m-%d %H:%M} UTC[/red]"
        elif r["flagged"]:
            health = f"[red]{health}[/red]"
        elif r["quarantined"]:
            health = f"[yellow]{r['quarantined']} in quarantine[/yellow]"
        table.add_row(r["name"], r["kind"], str(r["items"]),
                      when.strftime("%Y-%m-%d %H:%M") if when else "never", health,
                      r["last_error"] or "")
    out.print(table)


@sources_app.command("run")
def sources_run(
    name: SourceNameArg,
    authority: AuthorityOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Collect a source now."""
    from ecoute.collectors.service import run_source, source_id_by_name

    settings = get_settings()
    factory = session_factory(settings)
    source_id = source_id_by_name(factory, authority or settings.default_authority, name)
    report = run_source(factory, settings, source_id)
    print_run_report(name, report, as_json=as_json)


@sources_app.command("test")
def sources_test(
    name: SourceNameArg,
    limit: Annotated[int, typer.Option(help="How many items to show.")] = 5,
    authority: AuthorityOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Dry run: fetch and parse, print the first items or the error, store nothing."""
    from ecoute.collectors.service import run_source, source_id_by_name

    settings = get_settings()
    factory = session_factory(settings)
    source_id = source_id_by_name(factory, authority or settings.default_authority, name)
    report = run_source(factory, settings, source_id, dry_run=True, limit=limit)
    if as_json:
        print_json(report_dict(report))
    else:
        for item in report.preview:
            when = item.published_at.date().isoformat() if item.published_at else "no date"
            out.print(f"[bold]{item.title or item.external_id}[/bold] ({when})")
            out.print(f"  {item.text[:200]}")
        for rej in report.rejected:
            out.print(f"[red]would quarantine[/red] {rej.position}: {rej.reason}")
        for warning in report.warnings:
            out.print(f"[yellow]warning[/yellow]: {warning}")
        # Entries repeated within the source itself were never stored: not "already stored".
        repeats = f", {report.repeated} repeated in the source" if report.repeated else ""
        out.print(f"{len(report.preview)} item(s) shown, "
                  f"{report.duplicate - report.repeated} already stored{repeats}")
    if report.error:
        raise EcouteError(f"{name}: {report.error}")


@sources_app.command("set")
def sources_set(
    name: SourceNameArg,
    option: Annotated[
        list[str] | None, typer.Option(
            "--option", "-o", help="key=value, repeatable; `key=` puts the option back to "
            "its default.")
    ] = None,
    schedule: Annotated[str | None, typer.Option(help="e.g. 'every 30 minutes'.")] = None,
    authority: AuthorityOpt = None,
) -> None:
    """Change a source's options or schedule; checked as when it was added."""
    from ecoute.collectors.service import change_source, find_source, parse_option_pairs
    from ecoute.store.db import session_scope

    options: dict[str, Any] = {
        key: (None if value == "" else value)
        for key, value in parse_option_pairs(option or []).items()
    }
    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        source = find_source(session, authority or settings.default_authority, name)
        change_source(session, source, options=options, schedule=schedule)
        out.print(f"source {name!r} changed: schedule {source.schedule!r}, options "
                  f"{json.dumps(source.options, ensure_ascii=False)}", highlight=False)


def _set_enabled(name: str, authority: str | None, enabled: bool) -> None:
    from ecoute.collectors.service import change_source, find_source
    from ecoute.store.db import session_scope

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        source = find_source(session, authority or settings.default_authority, name)
        change_source(session, source, enabled=enabled)
    out.print(f"source {name!r} {'enabled' if enabled else 'disabled'}")


@sources_app.command("enable")
def sources_enable(name: SourceNameArg, authority: AuthorityOpt = None) -> None:
    """Collect a source again on its schedule."""
    _set_enabled(name, authority, True)


@sources_app.command("disable")
def sources_disable(name: SourceNameArg, authority: AuthorityOpt = None) -> None:
    """Stop collecting a source (its items and settings are kept)."""
    _set_enabled(name, authority, False)


@sources_app.command("remove")
def sources_remove(
    name: SourceNameArg,
    keep_items: Annotated[bool, typer.Option(
        "--keep-items", help="Keep its items and their figures; the source stays, disabled "
        "and hidden, as their origin, and its name is free again.")] = False,
    authority: AuthorityOpt = None,
) -> None:
    """Remove a source and, unless --keep-items, its items (and their figures)."""
    from ecoute.collectors.service import find_source, remove_source
    from ecoute.store.db import session_scope

    settings = get_settings()
    with session_scope(session_factory(settings)) as session:
        source = find_source(session, authority or settings.default_authority, name)
        deleted = remove_source(session, source, keep_items=keep_items)
    if keep_items:
        out.print(f"source {name!r} removed; its items are kept")
    else:
        out.print(f"source {name!r} removed with its {deleted} item(s)")
