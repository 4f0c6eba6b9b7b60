"""What a run reports: its counters, its outcome and, for a dry run, what it would store."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from ecoute.collectors.base import CallInterval, RawItem, Rejected, SourceFigures
from ecoute.errors import EcouteError
from ecoute.store.models import RunStatus

# Logged under the runner's name: operators filter the run's messages by that one logger.
log = logging.getLogger("ecoute.collectors.runner")


@dataclass
class RunReport:
    source: str
    status: RunStatus
    run_id: int | None = None
    fetched: int = 0
    new: int = 0
    duplicate: int = 0
    updated: int = 0
    quarantined: int = 0
    error: str | None = None
    #: The run failed because the database was busy or unreachable: the same run later
    #: stores what this one could not (the API answers 503 with Retry-After).
    retryable: bool = False
    #: Dry runs only: what would have been stored, redacted as it would be stored.
    preview: list[RawItem | CallInterval | SourceFigures] = field(default_factory=list)
    #: What went (in a dry run: would have gone) to quarantine; in a real run without the
    #: payloads, which are in the quarantine table.
    rejected: list[Rejected] = field(default_factory=list)
    #: Things the user should know although the run did not fail (see CollectContext.warn).
    warnings: list[str] = field(default_factory=list)
    #: Dry runs only: of ``duplicate``, the entries that repeat one read earlier in the same
    #: run (a republished post, a boost and its original): nothing was stored before them.
    repeated: int = 0
    #: Of ``duplicate``, the new entries published before their kind's retention period
    #: (docs/privacy.md): not stored, the next purge would remove them.
    expired: int = 0


def error_text(error: BaseException) -> str:
    """What a failed run stores and shows: never a database's SQL text or row values."""
    if isinstance(error, EcouteError):
        return str(error)
    if isinstance(error, SQLAlchemyError):
        # The driver's message quotes the statement and the record: the server log has it.
        log.error("database error while storing a batch: %s", error)
        return (f"the database refused to store a batch ({type(error).__name__}); nothing of "
                "that batch was stored, the next run tries again (details in the server log)")
    return f"unexpected {type(error).__name__} in the collector: {error}"
