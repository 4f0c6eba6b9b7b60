"""What the runner needs when a batch does not go in as written: the order in which versions of
one external id are applied, the database's reason for refusing a record (without the SQL and
parameters SQLAlchemy adds to it: they hold record contents), and run counters that only
count what was committed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError, StatementError

from ecoute.collectors.base import RawItem, Rejected

COUNTERS = ("fetched", "new", "duplicate", "updated", "quarantined", "expired")


@contextmanager
def counted_on_commit(report: Any) -> Iterator[None]:
    """The report's counters as they were before, when the transaction inside fails."""
    saved = {name: getattr(report, name) for name in COUNTERS}
    rejected = len(report.rejected)
    try:
        yield
    except BaseException:
        for name, value in saved.items():
            setattr(report, name, value)
        del report.rejected[rejected:]
        raise


def rounds_by_version(batch: list[Any]) -> list[list[Any]]:
    """The batch in rounds: the first version of every external id, then the second ones...

    A second version in the same batch is then applied after the first, as it would be from
    the next batch (an update, or a duplicate when nothing changed), not dropped.
    """
    rounds: list[list[Any]] = [[]]
    seen: dict[str, int] = {}
    for entry in batch:
        if not isinstance(entry, RawItem):
            rounds[0].append(entry)
            continue
        n = seen.get(entry.external_id, 0)
        seen[entry.external_id] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(entry)
    return rounds


def database_reason(exc: BaseException) -> str:
    """The first line of the database's (or driver's) own words."""
    orig = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    lines = str(orig).strip().splitlines()
    return (lines[0] if lines else type(orig).__name__)[:300]


def refusal_class(exc: BaseException) -> str:
    return type(exc.orig).__name__ if isinstance(exc, DBAPIError) else "StoreRefused"


def refused_payload(entry: Any) -> str | bytes:
    """What a refused record is kept as in quarantine, in a form any database stores."""
    if isinstance(entry, Rejected):
        # Bytes fit the binary column whatever they hold; the text column refused them.
        if isinstance(entry.payload, bytes):
            return entry.payload
        return entry.payload.encode("utf-8", "surrogatepass")
    # ASCII JSON: every character the database refused is now an escape sequence.
    return json.dumps(dataclasses.asdict(entry), default=str)
