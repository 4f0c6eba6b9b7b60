"""The scheduler: decides *when* work is due; workers (``ecoute.scheduler.workers``) decide *who* does it.

- One APScheduler job per enabled source, on the source's schedule in its authority's
  timezone. Firing only records a run request (``Source.due_at``); any worker claims it with a
  lease, so a source never runs twice at once, even across processes and hosts.
- Source jobs live in the ``scheduler_job`` table (created by a migration, not by APScheduler),
  with coalescing and a misfire grace: after downtime each missed job runs once, not N times.
- Periodic jobs (re-syncing source jobs, closing orphaned runs, the retention purge, and those
  other modules register with ``register_periodic``) take a ``JobContext`` and open their own
  sessions. They are rebuilt at each start, so they need no persistence.
- One ``ecoute run`` leads (on PostgreSQL a session-level ``pg_try_advisory_lock`` on a
  dedicated connection, on SQLite a ``flock`` on a file beside the database); the others wait
  as followers and take over when the leader dies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # Windows has no flock: one scheduler per SQLite file is up to the user
    fcntl = None  # type: ignore[assignment]

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ecoute.scheduler.alerts import nightly_alerts
from ecoute.scheduler.phone import check_phone_queues
from ecoute.config.settings import Settings
from ecoute.errors import InvalidSchedule
from ecoute.collectors.schedules import fingerprint, parse_schedule
from ecoute.store import scheduling
from ecoute.store.db import session_scope
from ecoute.store.retention import RetentionReport, apply_retention

log = logging.getLogger(__name__)

#: Key of the advisory lock the leading scheduler holds on PostgreSQL ("ecoute" in ASCII).
LEADER_LOCK_KEY = 0x65636F757465


@dataclass
class JobContext:
    factory: sessionmaker[Session]
    settings: Settings


@dataclass(frozen=True)
class PeriodicJob:
    id: str
    func: Callable[[JobContext], object]
    trigger: Callable[[Settings], BaseTrigger]


PERIODIC: dict[str, PeriodicJob] = {}


def register_periodic(
    job_id: str, trigger: Callable[[Settings], BaseTrigger]
) -> Callable[[Callable[[JobContext], object]], Callable[[JobContext], object]]:
    """Decorator: run the function on ``trigger(settings)`` in the leading scheduler."""

    def decorate(func: Callable[[JobContext], object]) -> Callable[[JobContext], object]:
        PERIODIC[job_id] = PeriodicJob(job_id, func, trigger)
        return func

    return decorate


# Source jobs are stored pickled, so they name a module-level function and a source id;
# the running scheduler tells that function where the database is.
_context: JobContext | None = None


def request_source_run(source_id: int) -> None:
    """Job of one source: ask for a run (a worker with a free slot claims it)."""
    if _context is None:
        log.warning("source job %s fired outside a running scheduler", source_id)
        return
    with session_scope(_context.factory) as session:
        if scheduling.request_run(session, source_id):
            log.info("source %s is due", source_id)


class MigratedJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store on the table our migrations create."""

    def start(self, scheduler: Any, alias: str) -> None:
        # The parent's start() would run CREATE TABLE itself; the schema is Alembic's.
        super(SQLAlchemyJobStore, self).start(scheduler, alias)


def sync_source_jobs(scheduler: BackgroundScheduler, ctx: JobContext) -> int:
    """Make the source jobs match the sources table; returns how many jobs changed."""
    with session_scope(ctx.factory) as session:
        rows = scheduling.schedule_rows(session)
    wanted: set[str] = set()
    changed = 0
    now = datetime.now(timezone.utc)
    for source_id, schedule, tz, enabled, never_run in rows:
        job_id = f"source:{source_id}"
        if not enabled:
            continue
        try:
            trigger = parse_schedule(schedule, tz)
        except InvalidSchedule as exc:
            log.warning("source %s is not scheduled: %s", source_id, exc)
            continue
        if trigger is None:
            continue
        wanted.add(job_id)
        mark = fingerprint(schedule, tz)
        job = scheduler.get_job(job_id, jobstore="sources")
        if job is not None and job.name == mark:
            continue
        # A source never collected is collected right away, not at its first slot.
        extra: dict[str, Any] = {"next_run_time": now} if never_run else {}
        scheduler.add_job(
            request_source_run, trigger, args=[source_id], id=job_id, name=mark,
            jobstore="sources", replace_existing=True, **extra,
        )
        changed += 1
        log.info("scheduled source %s: %s (%s)", source_id, schedule, tz)
    for job in scheduler.get_jobs(jobstore="sources"):
        if job.id not in wanted:
            job.remove()
            changed += 1
            log.info("unscheduled %s", job.id)
    return changed


@register_periodic("close-orphaned-runs",
                   lambda s: IntervalTrigger(seconds=max(30, int(s.source_lease_seconds))))
def close_orphaned_runs_job(ctx: JobContext) -> int:
    with session_scope(ctx.factory) as session:
        return scheduling.close_orphaned_runs(session)


@register_periodic("retention-purge", lambda s: CronTrigger(hour=3, minute=17, timezone="UTC"))
def retention_purge_job(ctx: JobContext) -> tuple[int, RetentionReport]:
    with session_scope(ctx.factory) as session:
        # Quarantine entries are purged by apply_retention (resolved and unresolved alike).
        runs = scheduling.purge_finished_runs(session, runs_days=ctx.settings.retention_runs_days)
        kept = apply_retention(session, ctx.settings)
    log.info("retention purge: %d items deleted, %d anonymised, %d quarantine rows "
             "(%d resolved, %d unresolved), %d runs deleted",
             sum(kept.items_deleted.values()), sum(kept.items_anonymised.values()),
             kept.quarantine_resolved + kept.quarantine_unresolved, kept.quarantine_resolved,
             kept.quarantine_unresolved, runs)
    return runs, kept


@register_periodic("digest-send", lambda s: CronTrigger(minute=1, timezone="UTC"))
def digest_send_job(ctx: JobContext) -> object:
    """Every hour: the digest e-mails that became due (each sent once, see ecoute.digest.send)."""
    # Deferred: matplotlib and the mail code load only in the process that leads.
    from ecoute.digest.send import send_due

    report = send_due(ctx.factory, ctx.settings)
    if report.total:
        log.info("digests: %d sent, %d deferred, %d failed", len(report.sent),
                 len(report.deferred), len(report.failed))
    return report


@register_periodic("alerts", lambda s: CronTrigger(hour=4, minute=41, timezone="UTC"))
def alerts_job(ctx: JobContext) -> dict[int, tuple[int, int]]:
    """Every night: every authority's alerts (silent sources, drops, spikes, topics...)."""
    return nightly_alerts(ctx.factory, ctx.settings)


@register_periodic("phone-queues",
                   lambda s: IntervalTrigger(minutes=s.phone_check_minutes))
def phone_queues_job(ctx: JobContext) -> dict[str, int]:
    """Overload detection on the collected call statistics, and the volunteers' calls."""
    return check_phone_queues(ctx.factory, ctx.settings)


class LeaderLock:
    """Leadership among schedulers sharing a database: a session-level advisory lock on
    PostgreSQL; on a SQLite file, an exclusive ``flock`` on ``<database>.scheduler.lock``
    beside it (the kernel releases it when the process dies, as PostgreSQL does the other)."""

    def __init__(self, engine: Engine, key: int = LEADER_LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self.conn: Connection | None = None
        self.backend_pid: int | None = None
        self.lock_file: IO[bytes] | None = None

    @property
    def shared(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def _sqlite_lock_path(self) -> Path | None:
        database = self.engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None  # in memory: one process only
        return Path(database).with_name(Path(database).name + ".scheduler.lock")

    def _acquire_file(self) -> bool:
        path = self._sqlite_lock_path()
        if path is None or fcntl is None:
            return True
        if self.lock_file is not None:
            return True
        handle = path.open("a+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self.lock_file = handle
        return True

    def acquire(self) -> bool:
        if not self.shared:
            return self._acquire_file()
        try:
            if self.conn is None:
                self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = self.conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
            self.backend_pid = self.conn.scalar(text("SELECT pg_backend_pid()"))
        except Exception as exc:  # database restarting: stay a follower and retry
            log.warning("cannot reach the database for leadership: %s", exc)
            self.release()
            return False
        return bool(got)

    def alive(self) -> bool:
        """Whether we still lead: the lock lives as long as its connection (or file)."""
        if not self.shared:
            return True
        try:
            assert self.conn is not None
            # SQLAlchemy silently reconnects a dropped connection; a new server session
            # does not hold our lock.
            if self.conn.scalar(text("SELECT pg_backend_pid()")) == self.backend_pid:
                return True
            log.error("the scheduler's database session was replaced, stepping down")
            self.release()
            return False
        except Exception as exc:
            log.error("lost the scheduler's database connection, stepping down: %s", exc)
            self.release()
            return False

    def release(self) -> None:
        if self.lock_file is not None:
            self.lock_file.close()  # closing the descriptor releases the flock
            self.lock_file = None
        if self.conn is not None:
            try:
                # Closing the server session releases the lock; a plain close() would hand
                # the connection, lock included, back to the pool.
                self.conn.invalidate()
                self.conn.close()
            except Exception:  # already broken: nothing to release
                log.debug("leader connection already closed", exc_info=True)
            self.conn = None


class Scheduler:
    """Leads when it can, schedules while it leads, steps down on stop or lost connection."""

    def __init__(
        self, engine: Engine, factory: sessionmaker[Session], settings: Settings,
        *, lock_key: int = LEADER_LOCK_KEY,
    ) -> None:
        self.engine = engine
        self.ctx = JobContext(factory, settings)
        self.lock = LeaderLock(engine, lock_key)
        self.leading = threading.Event()
        self.aps: BackgroundScheduler | None = None

    def _start_aps(self) -> BackgroundScheduler:
        global _context
        _context = self.ctx
        s = self.ctx.settings
        aps = BackgroundScheduler(
            jobstores={"sources": MigratedJobStore(engine=self.engine, tablename="scheduler_job"),
                       "default": MemoryJobStore()},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": s.scheduler_misfire_grace_seconds},
            timezone=timezone.utc,
        )
        aps.start()
        sync_source_jobs(aps, self.ctx)
        for job in PERIODIC.values():
            aps.add_job(job.func, job.trigger(s), args=[self.ctx], id=job.id)
        return aps

    def run(self, stop: threading.Event) -> None:
        """Blocks until ``stop`` is set."""
        poll = self.ctx.settings.worker_poll_seconds
        try:
            while not stop.is_set():
                if not self.lock.acquire():
                    stop.wait(poll)
                    continue
                log.info("scheduler leading")
                self.aps = self._start_aps()
                self.leading.set()
                self._lead(stop)
                self._stop_aps()
        finally:
            self._stop_aps()
            self.lock.release()

    def _lead(self, stop: threading.Event) -> None:
        # Re-syncing runs here, not as an APScheduler job: a job calling back into the
        # scheduler deadlocks with shutdown(wait=True), which holds the job store lock.
        every = self.ctx.settings.scheduler_sync_seconds
        next_sync = next_ping = time.monotonic() + every
        while not stop.wait(min(every, 1.0)):
            now = time.monotonic()
            if now >= next_ping:
                if not self.lock.alive():
                    return
                next_ping = now + 5.0
            if now >= next_sync and self.aps is not None:
                try:
                    sync_source_jobs(self.aps, self.ctx)
                except Exception:  # the database is back next time, keep leading
                    log.exception("could not re-read the sources table")
                next_sync = time.monotonic() + every

    def _stop_aps(self) -> None:
        global _context
        if self.aps is not None:
            self.aps.shutdown(wait=True)
            self.aps = None
            self.leading.clear()
            _context = None
            log.info("scheduler stopped")
