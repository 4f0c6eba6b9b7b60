"""The collector contract.

A collector reads one kind of source and yields :class:`RawItem` (something a user said) or
:class:`Rejected` (something that could not be read, kept in quarantine). It never touches the
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

from ecoute.store.models import Channel

if TYPE_CHECKING:
    from ecoute.collectors.http import HttpFetcher
    from ecoute.config.settings import Settings


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

    def collect(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        raise NotImplementedError

    @classmethod
    def describe(cls) -> str:
        return (cls.__doc__ or cls.kind).strip().splitlines()[0]
