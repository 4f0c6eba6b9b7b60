"""``ecoute import``: run a file source on one file, now."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecoute.cli._common import AuthorityOpt, JsonOpt, print_run_report, session_factory
from ecoute.config.settings import get_settings


def import_cmd(
    file: Annotated[Path, typer.Argument(help="The file to import (export, document, mbox, "
                                         "JSON/NDJSON records...).")],
    source: Annotated[str, typer.Option("--source", "-s", help="Name of the file source that "
                                        "reads it (`ecoute sources list`).")],
    authority: AuthorityOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a file source on one file, now (its usual path is left as it is)."""
    from ecoute.collectors.ingest import run_on_file
    from ecoute.collectors.service import source_id_by_name

    settings = get_settings()
    factory = session_factory()
    source_id = source_id_by_name(factory, authority or settings.default_authority, source)
    report = run_on_file(factory, settings, source_id, file.expanduser().resolve())
    print_run_report(f"{file.name} → {source}", report, as_json=as_json)
