"""Bounds on what ecoute reads from outside: JSON nesting, rows and expansion of imported
files, wall time of a run.

Input comes from people and systems ecoute does not control (a pushed record, an export in a
watched folder, an API answer). Without bounds, one document nested 100,000 levels deep or a
workbook whose shared strings expand a thousandfold holds a worker for minutes or breaks every
later read of the data. Each reader checks these bounds and refuses the one document (a
``ParseError`` the runner quarantines) instead of failing the run or the API.

The values come from settings (``json_max_depth``, ``import_max_rows``,
``xlsx_max_shared_strings_bytes``, ``collect_max_seconds``); :data:`DEFAULT_LIMITS` holds their
defaults for readers used outside a run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Any

from ecoute.config.settings import Settings
from ecoute.errors import ParseError, RunInterrupted

_DEFAULTS = Settings.model_fields


@dataclass(frozen=True)
class InputLimits:
    """The bounds one run applies to what it reads (see the module docstring)."""

    json_max_depth: int = _DEFAULTS["json_max_depth"].default
    max_rows: int = _DEFAULTS["import_max_rows"].default
    xlsx_max_shared_strings_bytes: int = _DEFAULTS["xlsx_max_shared_strings_bytes"].default
    #: ``time.monotonic()`` value after which a reader stops; None: no limit.
    deadline: float | None = None
    max_seconds: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, started: float | None = None) -> InputLimits:
        """The limits of a run that starts now (or at monotonic time ``started``)."""
        start = time.monotonic() if started is None else started
        return cls(
            json_max_depth=settings.json_max_depth, max_rows=settings.import_max_rows,
            xlsx_max_shared_strings_bytes=settings.xlsx_max_shared_strings_bytes,
            deadline=start + settings.collect_max_seconds,
            max_seconds=settings.collect_max_seconds,
        )

    def without_deadline(self) -> InputLimits:
        return replace(self, deadline=None, max_seconds=None)

    def check_time(self) -> None:
        """Raise ``RunInterrupted`` once the run is over its wall-time limit."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise RunInterrupted(
                f"the run took longer than {self.max_seconds:.0f} s; what it stored is kept",
                hint="raise ECOUTE_COLLECT_MAX_SECONDS if the source is just large, or split "
                "the file",
            )


DEFAULT_LIMITS = InputLimits()


def nesting_depth(value: Any, stop_after: int) -> int:
    """How many arrays/objects deep ``value`` goes (a scalar is 0), counted without recursion;
    counting stops once it passes ``stop_after``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, (list, tuple)):
            children = current
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > stop_after:
                return deepest
        stack.extend((child, depth) for child in children
                     if isinstance(child, (dict, list, tuple)))
    return deepest


def too_deep_reason(value: Any, max_depth: int, what: str) -> str | None:
    """Why ``value`` is refused for its nesting, or None when it is within ``max_depth``."""
    if nesting_depth(value, max_depth) > max_depth:
        return (f"{what} nests arrays/objects more than {max_depth} levels deep "
                "(ECOUTE_JSON_MAX_DEPTH); flatten it")
    return None


def loads_bounded(data: str | bytes, max_depth: int, *, what: str) -> Any:
    """``json.loads`` that refuses a document nested over ``max_depth`` with a ParseError.

    Syntax errors stay ``json.JSONDecodeError`` (callers already report those). The
    standard parser itself gives up near 1,000 levels with a RecursionError; that is turned
    into the same refusal, so no depth ever surfaces as a crash.
    """
    try:
        value = json.loads(data)
    except RecursionError as exc:
        raise ParseError(f"{what} nests arrays/objects more than {max_depth} levels deep "
                         "(ECOUTE_JSON_MAX_DEPTH); flatten it") from exc
    reason = too_deep_reason(value, max_depth, what)
    if reason:
        raise ParseError(reason)
    return value
