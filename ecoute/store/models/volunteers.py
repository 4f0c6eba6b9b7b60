"""Volunteers and back-up teams called in when a phone queue is overloaded."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecoute.store.models.base import Base, enum_type, utcnow


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
    status: Mapped[str] = mapped_column(enum_type(CallStatus, 16), default=CallStatus.PENDING)
    token_salt: Mapped[str] = mapped_column(String(32))
    notified_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    declared_minutes: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
