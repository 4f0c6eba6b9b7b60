"""Routing rules and how each item got its department."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ecoute.domain import Channel, Polarity
from ecoute.store.models.base import Base, enum_type, utcnow


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
    channel: Mapped[str | None] = mapped_column(enum_type(Channel))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    determinant: Mapped[str | None] = mapped_column(String(64))
    polarity: Mapped[str | None] = mapped_column(enum_type(Polarity))
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
    origin: Mapped[str] = mapped_column(enum_type(RoutingOrigin, 16))
    source_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule.id", ondelete="SET NULL"))
    routed_at: Mapped[datetime] = mapped_column(default=utcnow)
