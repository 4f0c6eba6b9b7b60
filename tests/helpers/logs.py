"""Keeping the root logging of the test process as it was around code that reconfigures it
(a command run in-process calls ``configure_logging``, whose handler would outlive the
command's captured stream)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

#: Loggers whose level ``configure_logging`` sets.
TUNED = ("httpx", "httpcore", "apscheduler")


@contextmanager
def kept_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in TUNED}
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, value in levels.items():
            logging.getLogger(name).setLevel(value)
