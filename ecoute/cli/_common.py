"""What every command group shares: the consoles, the common options, the store opener and the
one way a run report is printed."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings, get_settings
from ecoute.errors import EcouteError

out = Console()
err = Console(stderr=True)
#: Set by the app's callback: whether errors show their traceback.
state = {"debug": False}

AuthorityOpt = Annotated[
    str | None, typer.Option("--authority", "-a", help="Authority slug (default: the setting).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
HostOpt = Annotated[str, typer.Option(help="Address to listen on.")]
PortOpt = Annotated[int, typer.Option(help="Port to listen on.")]
SourceNameArg = Annotated[str, typer.Argument(help="Source name (`ecoute sources list`).")]


def session_factory(settings: Settings | None = None) -> sessionmaker[Session]:
    """Sessions on the configured database, refusing an unmigrated one."""
    from ecoute.store.db import make_session_factory, open_store

    return make_session_factory(open_store(settings or get_settings()))


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))


def report_dict(report: Any) -> dict[str, Any]:
    """A run report as JSON: preview items without their empty fields, rejections as
    position and reason."""
    data = asdict(report)
    data["preview"] = [
        {k: v for k, v in item.items() if v not in (None, {}, [])} for item in data["preview"]
    ]
    data["rejected"] = [
        {"position": r["position"], "reason": r["reason"]} for r in data["rejected"]
    ]
    return data


def print_run_report(label: str, report: Any, *, as_json: bool) -> None:
    """What a real run stored, its warnings, and its error as the command's failure."""
    if as_json:
        data = report_dict(report)
        data.pop("preview")
        print_json(data)
    else:
        out.print(f"{label}: {report.status} — {report.new} new, {report.duplicate} duplicate, "
                  f"{report.updated} updated, {report.quarantined} quarantined", highlight=False)
        for warning in report.warnings:  # entries too old to store, cut pages, among others
            out.print(f"[yellow]warning[/yellow]: {warning}", highlight=False)
    if report.error:
        raise EcouteError(f"{label}: {report.error}")


def warn_open_reads(settings: Settings, host: str) -> None:
    """Say so when the API would answer reads without a key on a reachable address."""
    from ecoute.api.deps import open_read_warning

    warning = open_read_warning(settings, host)
    if warning:
        err.print(f"[bold red]Warning:[/bold red] {warning}", highlight=False, soft_wrap=True)
