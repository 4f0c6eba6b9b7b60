"""The ``ecoute`` command line: thin, calls services, prints errors as one readable line.

This module builds the app from the command groups, one module each; they share what
``_common`` holds and never import one another.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
import typer.main

from ecoute.cli._common import err, state
from ecoute.cli.database import db_app
from ecoute.cli.digest import digest_app
from ecoute.cli.file_import import import_cmd
from ecoute.cli.keys import keys_app
from ecoute.cli.models import classify_cmd, evaluate_cmd, train_cmd
from ecoute.cli.privacy import privacy_app
from ecoute.cli.processes import demo_cmd, run_cmd, serve_cmd, worker_cmd
from ecoute.cli.quarantine import quarantine_app
from ecoute.cli.reference import collectors_cmd, settings_cmd
from ecoute.cli.report import report_app
from ecoute.cli.routing import routing_app
from ecoute.cli.sources import sources_app
from ecoute.cli.users import users_app
from ecoute.cli.volunteers import volunteers_app
from ecoute.config.settings import get_settings
from ecoute.errors import EcouteError

app = typer.Typer(
    help="ecoute: collect, classify and assess what users say about a public service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_app, name="db")
app.add_typer(sources_app, name="sources")
app.command("settings")(settings_cmd)
app.command("collectors")(collectors_cmd)
app.command("classify")(classify_cmd)
app.command("run")(run_cmd)
app.command("worker")(worker_cmd)
app.command("serve")(serve_cmd)
app.command("demo")(demo_cmd)
app.command("evaluate")(evaluate_cmd)
app.command("train")(train_cmd)
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.command("import")(import_cmd)
app.add_typer(privacy_app, name="privacy")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(digest_app, name="digest")
app.add_typer(routing_app, name="routing")
app.add_typer(report_app, name="report")
app.add_typer(volunteers_app, name="volunteers")


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    state["debug"] = debug
    from ecoute.observability import configure_logging

    configure_logging(get_settings(), debug=debug)
    if not debug:
        import logging

        # Alembic narrates every migration step at INFO; users only need the outcome.
        logging.getLogger("alembic").setLevel(logging.WARNING)


def command() -> Any:
    """The click command behind ``ecoute``, with readable placeholders in its help."""
    from ecoute.cli._help import readable_metavars

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
        if state["debug"]:
            raise
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
