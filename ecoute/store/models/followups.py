"""Follow-ups of items that call for action, and their history."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecoute.store.models.base import Base, enum_type, utcnow


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
    status: Mapped[str] = mapped_column(enum_type(FollowupStatus, 16), default=FollowupStatus.NEW)
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
