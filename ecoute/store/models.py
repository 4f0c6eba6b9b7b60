"""Typed SQLAlchemy 2 models of the store.

The schema itself is created and changed only by the Alembic migrations in
``ecoute/store/migrations``; these classes describe it for queries.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Unicode,
    UniqueConstraint,
    text,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ecoute.domain import Channel, Polarity, Provenance, Sentiment


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL = "partial"  # finished, but some entries went to quarantine
    FAILED = "failed"


# Stable constraint names so that migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


def _enum(cls: type[enum.StrEnum], length: int = 24) -> String:
    # Enums are stored as plain strings: adding a member needs no migration on PostgreSQL.
    return String(length)


class Authority(Base):
    __tablename__ = "authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    locale: Mapped[str] = mapped_column(String(16), default="fr")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Department(Base):
    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("authority_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))


class Site(Base):
    __tablename__ = "site"
    __table_args__ = (UniqueConstraint("authority_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(400))


class Source(Base):
    __tablename__ = "source"
    __table_args__ = (UniqueConstraint("authority_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    schedule: Mapped[str | None] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    etag: Mapped[str | None] = mapped_column(String(400))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    next_run_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Scheduling (ecoute.scheduler.leader, ecoute.scheduler.workers): when a run was asked for, and which
    # process holds the run until when; an expired lease is taken over by another worker.
    due_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    # Set when the source was removed but its items kept: it stays (disabled, renamed) as
    # their origin, hidden from the lists and never collected again.
    removed_at: Mapped[datetime | None]

    authority: Mapped[Authority] = relationship()


#: Where items without a publication date stand in listings: before any real date.
NO_DATE = datetime(1, 1, 1, tzinfo=timezone.utc)


def sort_at_of(published_at: datetime | None) -> datetime:
    """The listing key of an item published at ``published_at`` (``Item.sort_at``)."""
    return published_at if published_at is not None else NO_DATE


def _sort_at_default(context: Any) -> datetime:
    # Rows inserted without the key (the ORM, tests) get it from their own date.
    return sort_at_of(context.get_current_parameters().get("published_at"))


class Item(Base):
    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_item_source_content_hash", "source_id", "content_hash"),
        Index("ix_item_authority_published", "authority_id", "published_at", "id"),
        # The classify queue (store.items.pending_item_ids): items never classified, oldest
        # first, and items another model version classified, each read from an index.
        Index("ix_item_unclassified", "authority_id", "id",
              sqlite_where=sql_text("classified_version IS NULL"),
              postgresql_where=sql_text("classified_version IS NULL")),
        Index("ix_item_authority_classified_version", "authority_id", "classified_version"),
        Index("ix_item_authority_received", "authority_id", "received_at"),
        # The rating figures (store.ratings): rated items of a period, dated like the rollups
        # (published, else collected), with their scale, answer and what the figures filter
        # on, read from the index alone (benchmarks/bench_ratings.py).
        Index("ix_item_rated", "authority_id", "published_at", "collected_at", "rating_scale",
              "rating_value", "rating_norm", "channel", "site_id", "department_id",
              "source_id",
              sqlite_where=sql_text("rating_scale IS NOT NULL"),
              postgresql_where=sql_text("rating_scale IS NOT NULL")),
        # The same in answer order, for long periods: read whole, already grouped, instead of
        # sorting most of the rated items by answer. Its condition differs so that only the
        # long periods' query (which states it) can use it: the short ones keep their ranges.
        Index("ix_item_rated_answers", "authority_id", "rating_scale", "rating_value",
              "rating_norm", "published_at", "collected_at", "channel", "site_id",
              "department_id", "source_id",
              sqlite_where=sql_text("rating_norm IS NOT NULL"),
              postgresql_where=sql_text("rating_norm IS NOT NULL")),
        # Listing newest first, undated last (store.item_listing): one walk of this index.
        Index("ix_item_authority_sort", "authority_id", "sort_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(512))
    content_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(_enum(Channel))
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(16))
    author_hash: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None]
    # ``published_at``, or NO_DATE: never null, so that a keyset cursor an index serves can
    # list items newest first with the undated ones last (migration ``0021_item_listing``).
    sort_at: Mapped[datetime] = mapped_column(default=_sort_at_default)
    collected_at: Mapped[datetime] = mapped_column(default=utcnow)
    rating_value: Mapped[float | None] = mapped_column(Float)
    rating_scale: Mapped[str | None] = mapped_column(String(32))
    rating_norm: Mapped[float | None] = mapped_column(Float)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The model version that classified the item (STATED: its source did); None while it
    # waits. Lets the worker find pending items with an index instead of an anti-join.
    classified_version: Mapped[str | None] = mapped_column(String(128))
    # An officer's reading of the item's sentiment: wins over every model run.
    human_sentiment: Mapped[str | None] = mapped_column(_enum(Sentiment))
    sentiment_corrected_by: Mapped[str | None] = mapped_column(String(200))
    # How the authority handled a service request or complaint, where its source tracks it
    # (Open311, complaint registers): set ``received_at`` makes the item a case counted in
    # the response-time figures; ``answered_at`` is the first answer, ``closed_at`` the closing.
    received_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    source: Mapped[Source] = relationship()


class ItemCount(Base):
    """Items stored per source and channel. Kept current by triggers on ``item`` (migration
    ``item_counts``), so whatever inserts, moves or deletes items keeps them right; read by
    ``/metrics`` and the sources list instead of counting the item table."""

    __tablename__ = "item_count"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("source.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(_enum(Channel), primary_key=True)
    items: Mapped[int] = mapped_column(Integer)


class Tagging(Base):
    __tablename__ = "tagging"
    __table_args__ = (UniqueConstraint("item_id", "model_version"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(128))
    sentiment: Mapped[str] = mapped_column(_enum(Sentiment))
    p_negative: Mapped[float] = mapped_column(Float)
    p_neutral: Mapped[float] = mapped_column(Float)
    p_positive: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeterminantTag(Base):
    __tablename__ = "determinant_tag"
    __table_args__ = (Index("ix_determinant_tag_item", "item_id", "determinant"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    span_start: Mapped[int | None] = mapped_column(Integer)
    span_end: Mapped[int | None] = mapped_column(Integer)
    determinant: Mapped[str] = mapped_column(String(64))
    polarity: Mapped[str] = mapped_column(_enum(Polarity))
    confidence: Mapped[float] = mapped_column(Float)
    provenance: Mapped[str] = mapped_column(_enum(Provenance))
    model_version: Mapped[str | None] = mapped_column(String(128))
    corrected_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CollectionRun(Base):
    __tablename__ = "collection_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(_enum(RunStatus), default=RunStatus.RUNNING)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class Quarantine(Base):
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("collection_run.id", ondelete="SET NULL")
    )
    payload_text: Mapped[str | None] = mapped_column(Text)
    payload_bytes: Mapped[bytes | None] = mapped_column(LargeBinary)
    position: Mapped[str | None] = mapped_column(String(200))
    error_class: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class DailyRollup(Base):
    """Mention counts per day and dimension, kept current as taggings are written.

    ``site_id``/``department_id`` use 0 for "none" so that the unique key also holds on
    databases where NULLs are distinct.
    """

    __tablename__ = "daily_rollup"
    __table_args__ = (
        UniqueConstraint(
            "authority_id", "day", "determinant", "channel", "site_id", "department_id",
            name="uq_daily_rollup_key",
        ),
        # Covering: the satisfaction figures sum these columns over a range of days, and
        # read them from the index alone (3 to 4 times faster on SQLite than through the
        # table, benchmarks/bench_dashboard.py).
        Index("ix_daily_rollup_authority_day_counts", "authority_id", "day", "determinant",
              "channel", "site_id", "department_id", "pos", "neg", "neu", "rating_sum",
              "rating_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    determinant: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(_enum(Channel))
    site_id: Mapped[int] = mapped_column(Integer, default=0)
    department_id: Mapped[int] = mapped_column(Integer, default=0)
    pos: Mapped[int] = mapped_column(Integer, default=0)
    neg: Mapped[int] = mapped_column(Integer, default=0)
    neu: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[float] = mapped_column(Float, default=0.0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)


class SatisfactionRollup(Base):
    """Mention counts per day (or month) and determinant for one value of one dimension.

    The same counts as ``DailyRollup``, kept by the same writer, but keyed so that a figure
    for the whole authority, one channel, site, department, source or language, or one
    figure per value of such a dimension, sums a few rows: ``dimension`` is ``all`` (with
    ``value`` ``""``), ``channel``, ``site``, ``department``, ``source`` (ids as text, ``0``
    for none) or ``lang`` (``""`` when unknown). ``grain`` ``month`` rows (``day`` is the
    first of the month) hold the sum of that month's ``day`` rows, so a long window reads
    whole months and only the days at its two ends.
    """

    __tablename__ = "satisfaction_rollup"
    # The key is the only index, and on SQLite the table itself (WITHOUT ROWID): a query
    # names authority, grain, dimension, values and determinants and reads a range of days.
    __table_args__ = {"sqlite_with_rowid": False}

    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), primary_key=True)
    grain: Mapped[str] = mapped_column(String(8), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    determinant: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    pos: Mapped[int] = mapped_column(Integer, default=0)
    neg: Mapped[int] = mapped_column(Integer, default=0)
    neu: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[float] = mapped_column(Float, default=0.0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)


class SchedulerJob(Base):
    """APScheduler's job store (``ecoute.scheduler.leader``): one row per scheduled job."""

    __tablename__ = "scheduler_job"

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything of its authority (of all, when the key has no authority)
    OFFICER = "officer"  # reads and corrects (quality officer)
    VIEWER = "viewer"  # reads
    INGEST = "ingest"  # pushes items and uploads files, reads nothing


class ApiKey(Base):
    """An API key: only the sha256 of the token is stored; ``prefix`` lets people tell keys
    apart in lists and logs without revealing them."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(_enum(Role, 16))
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class CallStat(Base):
    """A phone queue's figures over one interval, from an ACD export (``call_log`` sources).

    One row per (source, queue, interval start): a corrected re-export updates it. Read by
    the waiting-time and accessibility KPIs and the phone-overload detection, by authority
    and time range. Waits are in seconds; ``service_level`` is a fraction 0..1 of the calls
    answered within ``service_level_seconds``.
    """

    __tablename__ = "call_stat"
    __table_args__ = (
        UniqueConstraint("source_id", "queue", "interval_start", name="uq_call_stat_key"),
        Index("ix_call_stat_authority_start", "authority_id", "interval_start"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(200))
    interval_start: Mapped[datetime]
    interval_minutes: Mapped[int | None] = mapped_column(Integer)
    offered: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    abandoned: Mapped[int] = mapped_column(Integer)
    avg_wait_seconds: Mapped[float | None] = mapped_column(Float)
    max_wait_seconds: Mapped[float | None] = mapped_column(Float)
    service_level: Mapped[float | None] = mapped_column(Float)
    service_level_seconds: Mapped[int | None] = mapped_column(Integer)
    agents: Mapped[float | None] = mapped_column(Float)
    #: Calls waiting in the queue at the end of the interval (a live push gives it).
    waiting: Mapped[int | None] = mapped_column(Integer)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    collected_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]


class SourceFigure(Base):
    """A source's own published figures (a review page's average rating and count), one row
    per change: the history of what the source says of itself, kept apart from the feedback
    so that it never enters the rollups. ``last_seen_at`` is the last run that read the same
    figures."""

    __tablename__ = "source_figure"
    __table_args__ = (Index("ix_source_figure_source_observed", "source_id", "observed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    subject: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    observed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    rating_value: Mapped[float] = mapped_column(Float)
    worst_rating: Mapped[float] = mapped_column(Float)
    best_rating: Mapped[float] = mapped_column(Float)
    rating_count: Mapped[int | None] = mapped_column(Integer)
    review_count: Mapped[int | None] = mapped_column(Integer)


class AuthorityHead(Base):
    """A classifier head refitted from an authority's corrections (``ecoute train
    --from-corrections``): the newest of each task is the one in use."""

    __tablename__ = "authority_head"
    __table_args__ = (Index("ix_authority_head_authority_task", "authority_id", "task", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    task: Mapped[str] = mapped_column(String(32))  # "determinants" or "sentiment"
    head: Mapped[bytes] = mapped_column(LargeBinary)  # a safetensors file, metadata included
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PurgedItem(Base):
    """What is left of an item that retention deleted or an erasure removed: enough to know
    the source offers it again, nothing to read. The runner counts such an entry as a
    duplicate, so that a purge is not undone by the next run (and the rollups, which kept the
    item's figures on retention, do not count it twice).

    The external id is kept as its SHA-256 (an id may be a case number or a message id naming
    the person); ``content_hash`` is the item's own, already a hash."""

    __tablename__ = "purged_item"
    __table_args__ = (
        UniqueConstraint("source_id", "external_key"),
        Index("ix_purged_item_source_content_hash", "source_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    external_key: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    purged_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestFrequency(enum.StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class DigestSubscription(Base):
    """Someone who receives the digest e-mail of an authority (``ecoute.digest``), on
    ``weekday`` (0 = Monday) at ``hour`` in the authority's time zone, optionally limited to
    a department or a site. Unsubscribing keeps the row (its log says what was sent); the
    unsubscribe links are signed with ``token_salt``, so a new subscription gets new links."""

    __tablename__ = "digest_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(8))
    frequency: Mapped[str] = mapped_column(_enum(DigestFrequency, 16))
    weekday: Mapped[int] = mapped_column(Integer)
    hour: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    token_salt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    unsubscribed_at: Mapped[datetime | None]

    authority: Mapped[Authority] = relationship()


class DigestStatus(enum.StrEnum):
    CLAIMED = "claimed"  # a sender took the period; nothing has gone out
    SENDING = "sending"  # the SMTP conversation began: never sent again automatically
    SENT = "sent"
    RETRY = "retry"  # a transient failure; tried again from ``next_attempt_at``
    FAILED = "failed"  # refused for good (or out of attempts): ``error`` says why


class DigestLog(Base):
    """One digest of one subscription for one period (``2026-W47``, ``2026-11``). The row is
    inserted, against its unique key, before anything is sent: a second scheduler, or the
    same one after a crash, finds it and does not send the period again."""

    __tablename__ = "digest_log"
    __table_args__ = (
        UniqueConstraint("subscription_id", "period", name="uq_digest_log_period"),
        Index("ix_digest_log_status", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("digest_subscription.id", ondelete="CASCADE")
    )
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(_enum(DigestStatus, 16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)


class User(Base):
    """A person who signs in to the dashboard with a username and a password. Only the
    password's argon2 hash is stored; roles and the authority scope mean what they mean for
    an API key (``Role``; no authority: an installation admin)."""

    __tablename__ = "users"  # "user" is a reserved word in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(_enum(Role, 16))
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_signed_in_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in dashboard session, opened with a password (``user_id``) or an API key
    (``api_key_id``). The cookie holds a random token and the store its sha256, so that a
    copy of the database opens no session; ``csrf_token`` is what the session's forms must
    send back."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_key.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class SigninFailure(Base):
    """One failed sign-in (a wrong password, an unknown API key), kept while it can still
    count towards a lock (``ecoute.store.signin_attempts``). ``subject`` is a sha256 of what
    was tried against (``user:<name>`` or ``address:<client address>``), never the name or
    the address itself: a username field often receives a password typed one field too
    early. In the database, not in a process, so that every worker sees every failure."""

    __tablename__ = "signin_failure"
    __table_args__ = (Index("ix_signin_failure_subject_at", "subject", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)


class AlertKind(enum.StrEnum):
    DETERMINANT_DROP = "determinant_drop"
    VOLUME_SPIKE = "volume_spike"
    SOURCE_SILENT = "source_silent"
    PHONE_OVERLOAD = "phone_overload"
    EMERGING_TOPIC = "emerging_topic"


class Alert(Base):
    """Something the assessment found that a quality officer should look at.

    ``key`` names the condition (``determinant_drop:courtesy``, ``source_silent:12``): one
    alert per key is active (``resolved_at`` empty, a partial unique index) and later
    evaluations that find the condition again only refresh its ``figures``. It resolves when
    the condition clears (``cleared_at`` too) or when a person resolves it (``resolved_by``);
    an alert a person resolved is not raised again until its condition has cleared once.
    """

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_authority_raised", "authority_id", "raised_at"),
        Index("uq_alert_active_key", "authority_id", "key", unique=True,
              sqlite_where=text("resolved_at IS NULL"),
              postgresql_where=text("resolved_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(_enum(AlertKind, 32))
    key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    cleared_at: Mapped[datetime | None]


class ItemEmbedding(Base):
    """The classifier's embedding of a negative item (float16), kept a few weeks for the
    detection of emerging topics; written with the item's classification."""

    __tablename__ = "item_embedding"
    __table_args__ = (Index("ix_item_embedding_authority_day", "authority_id", "day"),)

    item_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("item.id", ondelete="CASCADE"), primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)  # the item's day in the authority's time zone
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class RoutingOrigin(enum.StrEnum):
    """Who chose an item's department (``ItemRouting.origin``)."""

    SOURCE = "source"  # the source or the record itself: wins over the rules
    RULE = "rule"
    DEFAULT = "default"  # no rule matched: the authority's default department
    MANUAL = "manual"  # an officer moved it: wins over the rules
    NONE = "none"  # no rule matched and there is no default department


class RoutingRule(Base):
    """Items matching every criterion set (the others are left empty) go to ``department``;
    the rules of an authority are tried by ``position``, the first that matches wins."""

    __tablename__ = "routing_rule"
    __table_args__ = (Index("ix_routing_rule_authority_position", "authority_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    channel: Mapped[str | None] = mapped_column(_enum(Channel))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    determinant: Mapped[str | None] = mapped_column(String(64))
    polarity: Mapped[str | None] = mapped_column(_enum(Polarity))
    lang: Mapped[str | None] = mapped_column(String(16))
    keyword: Mapped[str | None] = mapped_column(String(400))
    category: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))


class ItemRouting(Base):
    """How an item got its ``department_id``. ``source_department_id`` keeps the department
    the source gave, whatever later moves the item."""

    __tablename__ = "item_routing"

    item_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("item.id", ondelete="CASCADE"), primary_key=True)
    origin: Mapped[str] = mapped_column(_enum(RoutingOrigin, 16))
    source_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule.id", ondelete="SET NULL"))
    routed_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowupStatus(enum.StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    CLOSED = "closed"
    DISMISSED = "dismissed"


class Followup(Base):
    """What is done about an item that calls for action. Its department is the item's; its due
    date is ``promise_days`` working days after ``received_at`` unless an officer set
    ``due_on``. Every change is a ``FollowupEvent``."""

    __tablename__ = "followup"
    __table_args__ = (Index("ix_followup_authority_status", "authority_id", "status"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("item.id", ondelete="CASCADE"), unique=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(_enum(FollowupStatus, 16), default=FollowupStatus.NEW)
    assignee: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime]
    promise_days: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date | None] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    dismissed_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowupEvent(Base):
    """One change of a follow-up, never updated nor deleted (it goes with its item only)."""

    __tablename__ = "followup_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    followup_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("followup.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(24))
    old_value: Mapped[str | None] = mapped_column(String(400))
    new_value: Mapped[str | None] = mapped_column(String(400))
    note: Mapped[str | None] = mapped_column(Text)


class PhoneQueueState(Base):
    """Where the overload detection (``ecoute.assessment.phone``) stands on a phone queue: the
    end of the last interval it judged, the open overload if any, and since when every figure
    has been back under its exit level (the hysteresis: an overload ends only after
    ``phone_recovery_minutes`` of calm)."""

    __tablename__ = "phone_queue_state"
    __table_args__ = (UniqueConstraint("authority_id", "queue"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(200))
    evaluated_until: Mapped[datetime | None]
    overload_id: Mapped[int | None] = mapped_column(
        ForeignKey("phone_overload.id", ondelete="SET NULL"))
    calm_since: Mapped[datetime | None]


class PhoneOverload(Base):
    """An overload of a phone queue, from the interval that crossed a threshold
    (``started_at``, the end of that interval) to the end of the recovery time (``ended_at``);
    ``calm_since`` is when the figures went back under their exit levels. ``trigger`` names
    the figures that crossed and their values."""

    __tablename__ = "phone_overload"
    __table_args__ = (Index("ix_phone_overload_authority_start", "authority_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    calm_since: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    trigger: Mapped[dict[str, Any]] = mapped_column(default=dict)


class BackupTeam(Base):
    """The volunteers who step in when a phone queue is overloaded. ``thresholds`` overrides
    the installation's overload thresholds for this queue (keys as in
    ``ecoute.assessment.phone.Thresholds``)."""

    __tablename__ = "backup_team"
    __table_args__ = (UniqueConstraint("authority_id", "queue"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL"))
    thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Volunteer(Base):
    """Someone of the authority's staff who may answer the phone when a queue is overloaded.
    ``availability`` is a list of weekly slots ``{"weekday": 0..6, "start": "HH:MM", "end":
    "HH:MM"}`` in the authority's time zone; an empty list means any time."""

    __tablename__ = "volunteer"
    __table_args__ = (UniqueConstraint("authority_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    availability: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BackupTeamMember(Base):
    __tablename__ = "backup_team_member"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("backup_team.id", ondelete="CASCADE"), primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer.id", ondelete="CASCADE"), primary_key=True)


class BackupActivation(Base):
    """A back-up team called in for an overload; it closes with the overload."""

    __tablename__ = "backup_activation"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("backup_team.id", ondelete="CASCADE"))
    overload_id: Mapped[int] = mapped_column(
        ForeignKey("phone_overload.id", ondelete="CASCADE"), unique=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class CallStatus(enum.StrEnum):
    """A volunteer's part in an activation (``BackupCall.status``)."""

    PENDING = "pending"  # to be notified
    SENDING = "sending"  # a sender took it
    NOTIFIED = "notified"
    FAILED = "failed"  # the notification could not be sent
    ACCEPTED = "accepted"
    DECLINED = "declined"


class BackupCall(Base):
    """A volunteer called for an activation, and what they answered. Hours count from
    ``started_at`` (the acceptance, or the activation's start when accepted before) to
    ``ended_at`` (the activation's end), unless the volunteer declared ``declared_minutes``.
    The accept and decline links are signed with ``token_salt``."""

    __tablename__ = "backup_call"
    __table_args__ = (UniqueConstraint("activation_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activation_id: Mapped[int] = mapped_column(
        ForeignKey("backup_activation.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"),
                                              index=True)
    status: Mapped[str] = mapped_column(_enum(CallStatus, 16), default=CallStatus.PENDING)
    token_salt: Mapped[str] = mapped_column(String(32))
    notified_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    declared_minutes: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
