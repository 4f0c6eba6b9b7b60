"""Reference tables generated from the code, so that documentation cannot drift from it."""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo


def default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return "(computed, see description)"
    value: Any = field.default
    if value is None:
        return "(none)"
    return f"`{value}`"


def settings_markdown() -> str:
    """The settings table of docs/configuration.md."""
    from ecoute.config.settings import Settings

    lines = ["| environment variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        lines.append(f"| `ECOUTE_{name.upper()}` | {default_text(field)} | {description} |")
    return "\n".join(lines) + "\n"
