"""Digest e-mail subscriptions and what was sent for each period."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoute.store.models.base import Base, enum_type, utcnow
from ecoute.store.models.places import Authority


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
    frequency: Mapped[str] = mapped_column(enum_type(DigestFrequency, 16))
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
    status: Mapped[str] = mapped_column(enum_type(DigestStatus, 16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
