"""Phone queues: their figures per interval, the overload detection's state, overloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecoute.store.models.base import Base, utcnow


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
