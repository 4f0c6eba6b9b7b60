"""``ecoute settings`` and ``ecoute collectors``: what can be configured, as people read it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ecoute.cli._common import JsonOpt, out, print_json
from ecoute.config.settings import get_settings


def settings_cmd(
    markdown: Annotated[bool, typer.Option("--markdown", help="The reference table.")] = False,
) -> None:
    """The settings in force (secrets hidden), or their reference table."""
    if markdown:
        from ecoute.config.reference import settings_markdown

        sys.stdout.write(settings_markdown())
        return
    print_json(get_settings().shown())


def collectors_cmd(
    as_json: JsonOpt = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="The reference page.")] = False,
) -> None:
    """Registered collector kinds and their options."""
    from ecoute.collectors.registry import collectors

    if markdown:
        from ecoute.collectors.registry import collectors_markdown

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
        print_json(data)
        return
    for entry in data:
        out.print(f"[bold]{entry['kind']}[/bold] — {entry['description']} "
                  f"(channel {entry['channel']}, {entry['default_schedule']})")
        for opt, spec in entry["options"].items():
            flag = " (required)" if opt in entry["required"] else ""
            out.print(f"  {opt}{flag}: {spec.get('description', '')}")
