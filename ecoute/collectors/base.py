"""The collector contract.

A collector reads one kind of source and yields :class:`RawItem` (something a user said),
:class:`CallInterval` (a phone queue's figures over one interval, stored as figures, not text),
:class:`SourceFigures` (the source's own average rating, stored with the source)
or :class:`Rejected` (something that could not be read, kept in quarantine). It never touches the
database: the runner dedupes, redacts, persists and records health. Whether a run is a dry run
is the runner's business, not the collector's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ecoute.collectors.limits import DEFAULT_LIMITS, InputLimits
from ecoute.domain import Channel, Polarity

if TYPE_CHECKING:
    from ecoute.collectors.http.client import HttpFetcher
    from ecoute.config.settings import Settings


@dataclass(frozen=True)
class StatedVerdict:
    """What the source itself says of an item, such as a mystery-visit score: its polarity
    and the determinants it measures. The runner stores it as the item's classification
    (audit tags, which only a human correction overrides) and no classifier reads the item."""

    polarity: Polarity
    determinants: tuple[str, ...] = ()


@dataclass
class RawItem:
    """One piece of feedback as a collector found it (before redaction and dedupe)."""

    external_id: str
    text: str
    title: str | None = None
    url: str | None = None
    author: str | None = None  # turned into a keyed pseudonym by the runner, never stored raw
    published_at: datetime | None = None
    lang: str | None = None
    channel: Channel | None = None  # overrides the collector's default channel
    rating_value: float | None = None
    rating_scale: str | None = None  # "1-5", "0-10", "yes/no"
    rating_norm: float | None = None  # 0..1; computed from value and scale when left empty
    site: str | None = None  # a site name, created on first use
    department: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    verdict: StatedVerdict | None = None
    #: What changes when the item changes without its text changing (a service request's
    #: status, a corrected score): hashed with the text, so that a new value makes the item
    #: an update instead of a duplicate. Not stored.
    version_key: str | None = None
    #: Where the source tracks how the authority handled it (a service request, a complaint
    #: register with statuses): when it was received, first answered and closed. Setting
    #: ``received_at`` makes the item count in the response-time figures.
    received_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass
class CallInterval:
    """A phone queue's figures over one interval of an ACD export (stored in ``CallStat``).

    Identified by (source, ``queue``, ``interval_start``): a corrected export replaces the
    figures of the same interval. Waits are in seconds, ``service_level`` a fraction 0..1 of
    the calls answered within ``service_level_seconds``.
    """

    queue: str
    interval_start: datetime
    offered: int
    answered: int
    abandoned: int
    interval_minutes: int | None = None
    avg_wait_seconds: float | None = None
    max_wait_seconds: float | None = None
    service_level: float | None = None
    service_level_seconds: int | None = None
    agents: float | None = None
    #: Calls waiting in the queue at the end of the interval, when the export says.
    waiting: int | None = None
    site: str | None = None
    department: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # What previews and `ecoute sources test` show for any entry.
    @property
    def external_id(self) -> str:
        return f"{self.queue}@{self.interval_start.isoformat()}"

    @property
    def title(self) -> str:
        return f"{self.queue}, {self.interval_start:%Y-%m-%d %H:%M} UTC"

    @property
    def published_at(self) -> datetime:
        return self.interval_start

    @property
    def text(self) -> str:
        parts = [f"{self.offered} offered", f"{self.answered} answered",
                 f"{self.abandoned} abandoned"]
        if self.avg_wait_seconds is not None:
            parts.append(f"average wait {self.avg_wait_seconds:g} s")
        if self.max_wait_seconds is not None:
            parts.append(f"max wait {self.max_wait_seconds:g} s")
        if self.service_level is not None:
            parts.append(f"service level {self.service_level:.0%}")
        if self.waiting is not None:
            parts.append(f"{self.waiting} waiting")
        return ", ".join(parts)


@dataclass
class SourceFigures:
    """A source's own summary of its ratings (a page's schema.org AggregateRating: "4.6 from
    281 ratings"): stored with the source and tracked over time (``SourceFigure``), never an
    item, never in the feedback rollups. Only real ratings: a count of 0 is no rating."""

    rating_value: float
    worst_rating: float
    best_rating: float
    rating_count: int | None = None
    review_count: int | None = None
    subject: str | None = None  # what is rated (schema.org itemReviewed)
    url: str | None = None

    # What previews and `ecoute sources test` show for any entry.
    @property
    def external_id(self) -> str:
        return f"figures:{self.subject or self.url or ''}"

    @property
    def title(self) -> str:
        return f"Average rating{f' of {self.subject}' if self.subject else ''}"

    @property
    def text(self) -> str:
        count = self.rating_count if self.rating_count is not None else self.review_count
        of = f" from {count} ratings" if count is not None else ""
        return f"{self.rating_value:g} on a {self.worst_rating:g}-{self.best_rating:g} scale{of}"

    @property
    def published_at(self) -> None:
        return None


@dataclass
class Rejected:
    """Input that could not become an item: kept in quarantine with where and why."""

    payload: str | bytes
    position: str
    reason: str
    error_class: str = "ParseError"


@dataclass
class CollectContext:
    """What a collector may use: its options, its cursor, HTTP, settings and a logger.

    ``cursor`` is a copy the collector may update as it advances; the runner stores it with
    the batch that contains the items yielded before the update, so it never runs ahead of
    stored data. ``etag``/``last_modified`` are the conditional-GET validators of the last
    successful run; a collector sets ``new_etag``/``new_last_modified``, which the runner stores
    only when the whole run succeeded.
    """

    source_name: str
    options: Any
    settings: Settings
    http: HttpFetcher
    cursor: dict[str, Any] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    new_etag: str | None = None
    new_last_modified: str | None = None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("ecoute.collect"))
    #: Bounds on what the collector reads (JSON depth, rows, expansion, wall time).
    limits: InputLimits = DEFAULT_LIMITS
    #: What the user should know about a run that did not fail (pages left unread, a file
    #: with nothing to collect); the runner puts them in the run report.
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            self.logger.warning("%s: %s", self.source_name, message)


class CollectorOptions(BaseModel):
    """Base of every collector's ``Options``: unknown keys are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Collector:
    """Base class of collectors; subclasses set the class attributes and ``collect``."""

    kind: ClassVar[str]
    channel: ClassVar[Channel]
    default_schedule: ClassVar[str] = "every 1 hour"
    #: Whether identical content under a new external id is a duplicate (feeds republishing)
    #: or a distinct item (two respondents giving the same short answer).
    dedupe_by_content: ClassVar[bool] = True
    Options: ClassVar[type[CollectorOptions]] = CollectorOptions

    def __init__(self, options: CollectorOptions) -> None:
        self.options = options

    def collect(
        self, ctx: CollectContext
    ) -> Iterator[RawItem | CallInterval | SourceFigures | Rejected]:
        raise NotImplementedError

    def reread(
        self, payload: str | bytes, position: str
    ) -> Iterator[RawItem | CallInterval | Rejected]:
        """Read one quarantined entry again, from the payload kept in quarantine (after its
        options were corrected, or ecoute was updated). Kinds whose entries cannot be read
        alone (a table row without its header) keep this default."""
        from ecoute.errors import NotRetryable

        raise NotRetryable(
            f"a {self.kind} source cannot read one quarantined entry again on its own",
            hint="correct the source or its file, run the source again, then dismiss the entry",
        )

    @classmethod
    def describe(cls) -> str:
        return (cls.__doc__ or cls.kind).strip().splitlines()[0]
