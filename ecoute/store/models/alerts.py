"""Alerts the assessment raises."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ecoute.store.models.base import Base, enum_type, utcnow


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
    kind: Mapped[str] = mapped_column(enum_type(AlertKind, 32))
    key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    cleared_at: Mapped[datetime | None]
