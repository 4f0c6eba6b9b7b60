"""Logs and in-process counters.

Logs are text for a terminal or, with ``ECOUTE_LOG_FORMAT=json``, one JSON object per line
for a log collector. Counters of what this process did (items classified, runs finished) live
in a registry of their own, which ``/metrics`` exposes next to figures read from the database.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import traceback
from datetime import datetime, timezone
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from ecoute.config.settings import Settings

PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)
CLASSIFIED = Counter(
    "ecoute_items_classified", "Items classified by this process.", registry=PROCESS_REGISTRY
)
CLASSIFY_SECONDS = Histogram(
    "ecoute_classify_batch_seconds", "Wall time of one classification batch in this process.",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120), registry=PROCESS_REGISTRY,
)
RUNS = Counter(
    "ecoute_collection_runs", "Collection runs finished by this process, by status.",
    ["status"], registry=PROCESS_REGISTRY,
)
RUN_SECONDS = Histogram(
    "ecoute_collection_run_seconds", "Wall time of collection runs in this process.",
    buckets=(1, 5, 15, 60, 300, 900, 1800, 3600), registry=PROCESS_REGISTRY,
)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record; ``extra={...}`` fields are kept as keys."""

    def __init__(self) -> None:
        super().__init__()
        self.host = socket.gethostname()

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "host": self.host,
            "pid": os.getpid(),
            "thread": record.threadName,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_text:  # already formatted (and redacted) by RedactingFilter
            data["exception"] = record.exc_text
        elif record.exc_info:
            data["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(data, default=str, ensure_ascii=False)


class RedactingFilter(logging.Filter):
    """Masks personal data (e-mails, phone numbers, names...: ``ecoute.privacy.redact``) in
    every record a handler writes, its message, exception text and ``extra`` strings: a
    message quoting a rejected record or a mail header must not put an address in the logs."""

    def __init__(self, patterns: dict[str, str] | None = None) -> None:
        super().__init__()
        self.patterns = patterns or None

    def filter(self, record: logging.LogRecord) -> bool:
        from ecoute.privacy import redact

        message = record.getMessage()
        record.msg, record.args = redact(message, self.patterns), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.patterns)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and isinstance(value, str):
                setattr(record, key, redact(value, self.patterns))
        return True


def configure_logging(settings: Settings, *, debug: bool = False) -> None:
    """Root logging for a command: level and format from the settings."""
    level = logging.DEBUG if debug else getattr(logging, settings.log_level.upper(), logging.INFO)
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(settings.redact_patterns))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler logs every job execution at INFO: noise next to our own lines.
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
    # httpx logs every request's full URL at INFO (and httpcore its headers at DEBUG): an API
    # key in a query string or a bearer token would land in the logs. Never below WARNING.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
