"""The ``ecoute`` command line: thin, calls services, prints errors as one readable line."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated, Any

import typer
import typer.main
from rich.console import Console
from rich.table import Table

from ecoute.config.settings import Settings, get_settings
from ecoute.errors import EcouteError

app = typer.Typer(
    help="ecoute: collect, classify and assess what users say about a public service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
sources_app = typer.Typer(
    help="Feedback sources: add, list, run, test, set, enable, disable, remove.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(sources_app, name="sources")

out = Console()
err = Console(stderr=True)
_state = {"debug": False}

AuthorityOpt = Annotated[
    str | None, typer.Option("--authority", "-a", help="Authority slug (default: the setting).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
HostOpt = Annotated[str, typer.Option(help="Address to listen on.")]
PortOpt = Annotated[int, typer.Option(help="Port to listen on.")]


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    _state["debug"] = debug
    from ecoute.observability import configure_logging

    configure_logging(get_settings(), debug=debug)
    if not debug:
        import logging

        # Alembic narrates every migration step at INFO; users only need the outcome.
        logging.getLogger("alembic").setLevel(logging.WARNING)


def _factory(settings: Settings, *, check: bool = True) -> Any:
    from ecoute.store.db import check_schema, make_engine, make_session_factory

    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    if check:
        check_schema(engine)
    return make_session_factory(engine)


def _print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))


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
    from ecoute.collectors.sources import add_source, parse_option_pairs
    from ecoute.store.db import session_scope

    settings = get_settings()
    with session_scope(_factory(settings)) as session:
        source = add_source(
            session, authority=authority or settings.default_authority, name=name, kind=kind,
            options=parse_option_pairs(option or []), schedule=schedule, site=site,
            department=department,
        )
        out.print(f"source {source.name!r} ({source.kind}) added, id {source.id}")


@sources_app.command("list")
def sources_list(authority: AuthorityOpt = None, as_json: JsonOpt = False) -> None:
    """Sources with their health: last success, last error, items collected, back-off."""
    from ecoute.collectors.health import source_health
    from ecoute.collectors.secret_options import scrub, source_secrets
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.source_figures import figure_dict, latest_figures
    from ecoute.store.sources import last_run_quarantined, list_sources

    settings = get_settings()
    with session_scope(_factory(settings)) as session:
        owner = get_authority(session, authority or settings.default_authority)
        listed = list_sources(session, owner.id)
        held = last_run_quarantined(session, [s.id for s, _n in listed])
        figures = latest_figures(session, [s.id for s, _n in listed])
        rows = [
            {"id": s.id, "name": s.name, "kind": s.kind, "enabled": s.enabled, "items": n,
             "schedule": s.schedule, "last_run_at": s.last_run_at,
             "last_success_at": s.last_success_at,
             "last_error": scrub(s.last_error, source_secrets(s.kind, s.options)),
             "consecutive_failures": s.consecutive_failures,
             **source_health(s, settings, quarantined=held.get(s.id, 0)).as_dict(),
             "figures": [figure_dict(f) for f in figures.get(s.id, [])]}
            for s, n in listed
        ]
    if as_json:
        _print_json(rows)
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


def _report_dict(report: Any) -> dict[str, Any]:
    data = asdict(report)
    data["preview"] = [
        {k: v for k, v in item.items() if v not in (None, {}, [])} for item in data["preview"]
    ]
    data["rejected"] = [
        {"position": r["position"], "reason": r["reason"]} for r in data["rejected"]
    ]
    return data


@sources_app.command("run")
def sources_run(
    name: Annotated[str, typer.Argument(help="Source name.")],
    authority: AuthorityOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Collect a source now."""
    from ecoute.collectors.sources import run_source, source_id_by_name

    settings = get_settings()
    factory = _factory(settings)
    source_id = source_id_by_name(factory, authority or settings.default_authority, name)
    report = run_source(factory, settings, source_id)
    if as_json:
        _print_json(_report_dict(report))
    else:
        out.print(f"{name}: {report.status} — {report.new} new, {report.duplicate} duplicate, "
                  f"{report.updated} updated, {report.quarantined} quarantined")
        for warning in report.warnings:
            out.print(f"[yellow]warning[/yellow]: {warning}")
    if report.error:
        raise EcouteError(f"{name}: {report.error}")


@sources_app.command("test")
def sources_test(
    name: Annotated[str, typer.Argument(help="Source name.")],
    limit: Annotated[int, typer.Option(help="How many items to show.")] = 5,
    authority: AuthorityOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Dry run: fetch and parse, print the first items or the error, store nothing."""
    from ecoute.collectors.sources import run_source, source_id_by_name

    settings = get_settings()
    factory = _factory(settings)
    source_id = source_id_by_name(factory, authority or settings.default_authority, name)
    report = run_source(factory, settings, source_id, dry_run=True, limit=limit)
    if as_json:
        _print_json(_report_dict(report))
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


@app.command("settings")
def settings_cmd(
    markdown: Annotated[bool, typer.Option("--markdown", help="The reference table.")] = False,
) -> None:
    """The settings in force (secrets hidden), or their reference table."""
    if markdown:
        from ecoute.config.reference import settings_markdown

        sys.stdout.write(settings_markdown())
        return
    _print_json(get_settings().shown())


@app.command("collectors")
def collectors_cmd(
    as_json: JsonOpt = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="The reference page.")] = False,
) -> None:
    """Registered collector kinds and their options."""
    from ecoute.collectors.registry import collectors

    if markdown:
        from ecoute.config.reference import collectors_markdown

        sys.stdout.write(collectors_markdown())
        return

    data = [
        {"kind": kind, "description": cls.describe(), "channel": str(cls.channel),
         "default_schedule": cls.default_schedule,
         "options": cls.Options.model_json_schema().get("properties", {}),
         "required": cls.Options.model_json_schema().get("required", [])}
        for kind, cls in collectors().items()
    ]
    if as_json:
        _print_json(data)
        return
    for entry in data:
        out.print(f"[bold]{entry['kind']}[/bold] — {entry['description']} "
                  f"(channel {entry['channel']}, {entry['default_schedule']})")
        for opt, spec in entry["options"].items():
            flag = " (required)" if opt in entry["required"] else ""
            out.print(f"  {opt}{flag}: {spec.get('description', '')}")


@app.command("classify")
def classify_cmd(
    limit: Annotated[int | None, typer.Option(help="Stop after this many items.")] = None,
) -> None:
    """Classify every item not yet classified by the current model."""
    from rich.progress import Progress

    from ecoute.classifiers.loader import ClassifierPool
    from ecoute.classifiers.worker import classify_each_authority

    settings = get_settings()
    factory = _factory(settings)
    pool = ClassifierPool(settings, factory)
    # Load the default model before the progress bar, so that its errors come first.
    default = pool.for_authority(settings.default_authority)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("classifying", total=None)
        report = classify_each_authority(
            factory, pool.for_authority, batch_size=settings.classify_chunk_size,
            max_items=limit, progress=lambda n: progress.advance(task, n),
        )
    out.print(f"{report.classified} item(s) classified with {default.name}@{default.version}")


def _warn_open_reads(settings: Settings, host: str) -> None:
    from ecoute.api.deps import open_read_warning

    warning = open_read_warning(settings, host)
    if warning:
        err.print(f"[bold red]Warning:[/bold red] {warning}", highlight=False, soft_wrap=True)


@app.command("run")
def run_cmd(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    api: Annotated[bool, typer.Option(help="Serve the API and /metrics.")] = True,
) -> None:
    """Everything in one process: API, scheduler and a collect + classify worker.

    Runs until SIGTERM or Ctrl+C, then finishes the batch in hand and exits."""
    from ecoute.daemon import RunOptions, run_process

    settings = get_settings()
    run_process(settings, RunOptions(host=host, port=port, api=api),
                on_listening=lambda: _warn_open_reads(settings, host))


@app.command("worker")
def worker_cmd(
    collect: Annotated[bool, typer.Option(help="Collect due sources.")] = True,
    classify: Annotated[bool, typer.Option(help="Classify new items.")] = True,
    scheduler: Annotated[
        bool, typer.Option(help="Also stand by as scheduler (one leads per database).")
    ] = False,
) -> None:
    """An extra worker against the shared PostgreSQL database (start as many as you like)."""
    from ecoute.daemon import RunOptions, run_process

    run_process(get_settings(), RunOptions(api=False, scheduler=scheduler, collect=collect,
                                           classify=classify))


@app.command("serve")
def serve_cmd(host: HostOpt = "127.0.0.1", port: PortOpt = 8000) -> None:
    """Serve the API (and its documentation at /docs)."""
    import uvicorn

    from ecoute.api.app import create_app

    from ecoute.daemon import listening_socket

    settings = get_settings()
    _factory(settings)  # refuse to start on an unmigrated database
    sock = listening_socket(host, port)
    _warn_open_reads(settings, host)
    try:
        uvicorn.Server(uvicorn.Config(create_app(settings), host=host, port=port,
                                      log_level="info")).run(sockets=[sock])
    finally:
        sock.close()


@app.command("demo")
def demo_cmd(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    serve: Annotated[bool, typer.Option(help="Serve the API once the data is ready.")] = True,
) -> None:
    """Fresh SQLite database with the shipped sample sources, collected, classified, served."""
    from ecoute.demo import prepare_demo

    settings = prepare_demo(out)
    if serve:
        import uvicorn

        from ecoute.api.app import create_app

        _warn_open_reads(settings, host)
        out.print(f"\nOpen http://{host}:{port}/api/v1/satisfaction?window=90d "
                  f"or http://{host}:{port}/docs — Ctrl+C to stop.")
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


# Model commands live in their own module; registered here so `ecoute --help` lists them.
from ecoute.cli_models import evaluate_cmd, train_cmd  # noqa: E402

app.command("evaluate")(evaluate_cmd)
app.command("train")(train_cmd)


# API keys and file import live in their own module; registered here for `ecoute --help`.
from ecoute.cli_keys import import_cmd, keys_app  # noqa: E402

app.add_typer(keys_app, name="keys")
app.command("import")(import_cmd)

from ecoute.cli_privacy import privacy_app  # noqa: E402

app.add_typer(privacy_app, name="privacy")


# Changing sources and the quarantine live in their own modules; registered here.
from ecoute.cli_quarantine import quarantine_app  # noqa: E402
from ecoute.cli_sources import (  # noqa: E402
    sources_disable,
    sources_enable,
    sources_remove,
    sources_set,
)

sources_app.command("set")(sources_set)
sources_app.command("enable")(sources_enable)
sources_app.command("disable")(sources_disable)
sources_app.command("remove")(sources_remove)
app.add_typer(quarantine_app, name="quarantine")


def command() -> Any:
    """The click command behind ``ecoute``, with readable placeholders in its help."""
    from ecoute.cli_help import readable_metavars

    built = typer.main.get_command(app)
    readable_metavars(built)
    return built


def main() -> None:
    """Console-script entry point. Usage errors (a missing option, a mistyped command, a value
    of the wrong type) get click's short usage message and exit 2; ecoute errors one line on
    stderr and exit 1; never a traceback unless ``--debug``."""
    try:
        # Standalone mode: click itself reports usage errors, whichever click (typer now
        # ships its own copy, whose exceptions are not ``click.ClickException``).
        command().main(prog_name="ecoute")
    except EcouteError as exc:
        if _state["debug"]:
            raise
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
