"""What classification writes: taggings, determinant tags, embeddings, refitted heads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ecoute.domain import Polarity, Provenance, Sentiment
from ecoute.store.models.base import Base, enum_type, utcnow


class Tagging(Base):
    __tablename__ = "tagging"
    __table_args__ = (UniqueConstraint("item_id", "model_version"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(128))
    sentiment: Mapped[str] = mapped_column(enum_type(Sentiment))
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
    polarity: Mapped[str] = mapped_column(enum_type(Polarity))
    confidence: Mapped[float] = mapped_column(Float)
    provenance: Mapped[str] = mapped_column(enum_type(Provenance))
    model_version: Mapped[str | None] = mapped_column(String(128))
    corrected_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
