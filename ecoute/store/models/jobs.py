"""The scheduler's persisted jobs."""

from __future__ import annotations

from sqlalchemy import Float, LargeBinary, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from ecoute.store.models.base import Base


class SchedulerJob(Base):
    """APScheduler's job store (``ecoute.scheduler.leader``): one row per scheduled job."""

    __tablename__ = "scheduler_job"

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)
