"""Collected items, their counts per source, and what is left of purged ones."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoute.domain import Channel, Sentiment
from ecoute.store.models.base import Base, enum_type, utcnow
from ecoute.store.models.sources import Source


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
    channel: Mapped[str] = mapped_column(enum_type(Channel))
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
    human_sentiment: Mapped[str | None] = mapped_column(enum_type(Sentiment))
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
    channel: Mapped[str] = mapped_column(enum_type(Channel), primary_key=True)
    items: Mapped[int] = mapped_column(Integer)


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
