"""Mention counts kept current as taggings are written, read by the assessment."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecoute.domain import Channel
from ecoute.store.models.base import Base, enum_type


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
    channel: Mapped[str] = mapped_column(enum_type(Channel))
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
