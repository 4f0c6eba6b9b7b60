"""Help text people can read: the value placeholders click has always shown (TEXT, INTEGER).

Recent typer releases print Python annotations instead (``<str>``, ``<list[str]>``,
``<bool>`` after a flag), which mean nothing to most users; this sets the classic placeholder
on every parameter that has none of its own. On older typer releases, which already show
them, it changes nothing visible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_origin

#: Placeholder per annotation; anything else is shown as TEXT.
PLACEHOLDERS: dict[Any, str] = {
    str: "TEXT", int: "INTEGER", float: "FLOAT", bool: "BOOLEAN", Path: "PATH",
}


def _annotation(param: Any) -> Any:
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    while get_origin(annotation) in (list, tuple):  # a repeatable option: its element
        annotation = get_args(annotation)[0]
    return annotation


def placeholder(param: Any) -> str | None:
    """The placeholder to show for ``param``; None keeps click's own."""
    if getattr(param, "param_type_name", "") == "argument":
        return str(param.name).upper()
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""  # a flag takes no value: nothing to show after it
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and getattr(descriptor, "is_choice", False) and descriptor.choices:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in descriptor.choices) + "]"
    annotation = _annotation(param)
    if annotation is None:  # an older typer: click already shows TEXT, INTEGER...
        return None
    return PLACEHOLDERS.get(annotation, "TEXT")


def _no_type(*_args: Any, **_kwargs: Any) -> None:
    return None


def _help_option(command: Any) -> Any:
    """``--help``, which click makes on demand (and recent releases then keep)."""
    try:
        return command.get_help_option(command.context_class(command))
    except Exception:  # an older click that builds it differently: nothing to fix there
        return None


def readable_metavars(command: Any) -> None:
    """Give every parameter of ``command`` and its subcommands a readable placeholder."""
    for param in [*getattr(command, "params", []), _help_option(command)]:
        if param is None or getattr(param, "metavar", None) is not None:
            continue
        shown = placeholder(param)
        if shown is None:
            continue
        param.metavar = shown
        if getattr(param, "param_type_name", "") == "argument" and hasattr(
                param, "type_descriptor"):
            # The argument's own name (NAME) already says what goes there; recent typer
            # releases would add ``<str>`` after it.
            param.display_type_rich = _no_type
    for sub in getattr(command, "commands", {}).values():
        readable_metavars(sub)
