"""Workers: claim due sources and unclassified items, and do the work.

Any number of worker processes (``ecoute run`` embeds one, ``ecoute worker`` starts more) can
share one database without doing the same work twice:

- a due source is claimed with a lease (``ecoute.store.scheduling.claim_source``) renewed by a
  heartbeat while its run goes on; a worker that dies stops renewing and its source is taken
  over once the lease expires (at once on the same host, where the dead pid is visible);
- on PostgreSQL a classification batch is claimed with ``FOR UPDATE SKIP LOCKED`` and written
  in the same transaction, so the row locks hold until the taggings are committed and are
  released by the server if the worker dies; on SQLite (one process) the model runs outside
  the transaction and the write re-checks that each item is still pending and unchanged.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.scheduler.alerts import evaluate_authorities
from ecoute.scheduler.phone import after_call_log_run
from ecoute.classifiers.base import Classifier
from ecoute.classifiers.pending import classify_batch
from ecoute.collectors.runner import SourceRunner
from ecoute.config.settings import Settings
from ecoute.errors import EcouteError, RunInterrupted
from ecoute.observability import CLASSIFIED, CLASSIFY_SECONDS, RUN_SECONDS, RUNS
from ecoute.store import scheduling
from ecoute.store.db import make_session_factory, make_writer_factory, session_scope
from ecoute.store.models import Authority, RunStatus, utcnow

log = logging.getLogger(__name__)


def worker_name() -> str:
    """Unique per process; host and pid let a restarted process recognise its dead elders."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to someone else
        return True
    return True


def release_dead_local_claims(factory: sessionmaker[Session]) -> int:
    """Free the leases of workers of this host whose process is gone, and close their runs."""
    host = socket.gethostname()
    freed: list[int] = []
    with session_scope(factory) as session:
        for holder in scheduling.claim_holders(session):
            parts = holder.split(":")
            if len(parts) == 3 and parts[0] == host and parts[1].isdigit() \
                    and int(parts[1]) != os.getpid() and not _pid_alive(int(parts[1])):
                freed += scheduling.release_holder(session, holder)
        if freed:
            scheduling.close_orphaned_runs(session, source_ids=freed)
        scheduling.close_orphaned_runs(session)
    return len(freed)


class Worker:
    """Collect and/or classify until ``stop`` is set; then finish the batch in hand, give
    the leases back and return."""

    def __init__(
        self, engine: Engine, settings: Settings, *, collect: bool = True, classify: bool = True,
        classifier_factory: Callable[[], Classifier] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.writer = make_writer_factory(engine)
        self.reader = make_session_factory(engine)
        self.collect, self.classify = collect, classify
        self.classifier_factory = classifier_factory
        self.stop = stop or threading.Event()
        self.name = worker_name()
        self.lease = timedelta(seconds=settings.source_lease_seconds)
        self._held: dict[int, float] = {}  # source id -> wall-time deadline (monotonic)
        self._lost: set[int] = set()
        self._mutex = threading.Lock()
        self.classified = 0  # by this worker, for reports and tests
        self._alerts_at: dict[int, float] = {}  # authority id -> when its alerts last ran

    def run(self) -> None:
        release_dead_local_claims(self.writer)
        threads = [threading.Thread(target=self._heartbeat, name="lease-heartbeat", daemon=True)]
        if self.collect:
            threads.append(threading.Thread(target=self._collect_loop, name="collect"))
        if self.classify:
            threads.append(threading.Thread(target=self._classify_loop, name="classify"))
        for thread in threads:
            thread.start()
        log.info("worker %s started (collect=%s, classify=%s)", self.name, self.collect,
                 self.classify)
        try:
            for thread in threads[1:]:
                thread.join()
        finally:
            self.stop.set()
            with session_scope(self.writer) as session:
                scheduling.release_worker(session, self.name)
            log.info("worker %s stopped", self.name)

    # --- collection -----------------------------------------------------------------------
    def _collect_loop(self) -> None:
        slots = self.settings.collect_concurrency
        running: set[Future[None]] = set()
        with ThreadPoolExecutor(slots, thread_name_prefix="source") as pool:
            while not self.stop.is_set():
                claimed = self._claim(slots - len(running)) if len(running) < slots else []
                for source_id in claimed:
                    running.add(pool.submit(self._run_source, source_id))
                if claimed and len(running) < slots:
                    continue  # more may be due right now
                if running:
                    done, running = wait(running, timeout=self.settings.worker_poll_seconds,
                                         return_when=FIRST_COMPLETED)
                    running = set(running)
                else:
                    self.stop.wait(self.settings.worker_poll_seconds)
            wait(running)

    def _claim(self, want: int) -> list[int]:
        try:
            with session_scope(self.reader) as session:
                candidates = scheduling.due_source_ids(session, limit=want)
            claimed = []
            for source_id in candidates:
                with session_scope(self.writer) as session:
                    claim = scheduling.claim_source(session, source_id, self.name, self.lease)
                if claim is not None:
                    if claim.taken_over:
                        log.warning("source %s: took over the claim of a worker that stopped",
                                    source_id)
                    claimed.append(source_id)
            return claimed
        except Exception:  # database hiccup: log, wait, retry; never kill the loop
            log.exception("could not look for due sources")
            return []

    def _interrupt(self, source_id: int) -> None:
        if self.stop.is_set():
            raise RunInterrupted("ecoute is shutting down; the source resumes at the next run",
                                 source_fault=False)
        with self._mutex:
            lost = source_id in self._lost
            deadline = self._held.get(source_id, float("inf"))
        if lost:
            raise RunInterrupted("another worker took this source over (lease expired)",
                                 source_fault=False)
        if time.monotonic() > deadline:
            raise RunInterrupted(
                f"the run took longer than {self.settings.collect_max_seconds:.0f} s; "
                "what it stored is kept",
                hint="raise ECOUTE_COLLECT_MAX_SECONDS if the source is just large",
            )

    def _run_source(self, source_id: int) -> None:
        started, clock = utcnow(), time.monotonic()
        with self._mutex:
            self._held[source_id] = clock + self.settings.collect_max_seconds
        succeeded = False
        try:
            runner = SourceRunner(self.writer, self.settings,
                                  interrupt=lambda: self._interrupt(source_id))
            report = runner.run(source_id)
            succeeded = report.status != RunStatus.FAILED
            RUNS.labels(status=str(report.status)).inc()
            log.info("source %s: %s, %d new, %d duplicate, %d quarantined%s", report.source,
                     report.status, report.new, report.duplicate, report.quarantined,
                     f" ({report.error})" if report.error else "",
                     extra={"source_id": source_id, "run_id": report.run_id})
            after_call_log_run(self.writer, self.settings, source_id,
                               report.new + report.updated)
        except EcouteError as exc:
            log.error("source %s could not run: %s", source_id, exc)
        except Exception:
            log.exception("source %s: unexpected failure of the runner", source_id)
        finally:
            RUN_SECONDS.observe(time.monotonic() - clock)
            with self._mutex:
                self._held.pop(source_id, None)
                self._lost.discard(source_id)
            try:
                with session_scope(self.writer) as session:
                    scheduling.release_source(session, source_id, self.name, started=started,
                                              succeeded=succeeded)
            except Exception:  # the lease expires on its own
                log.exception("source %s: could not release its lease", source_id)

    def _heartbeat(self) -> None:
        every = max(1.0, self.settings.source_lease_seconds / 3)
        while True:
            # Runs finishing their last batch after a stop still need their leases.
            if self.stop.is_set():
                time.sleep(every)
            else:
                self.stop.wait(every)
            with self._mutex:
                held = list(self._held)
            if not held:
                if self.stop.is_set():
                    return
                continue
            try:
                with session_scope(self.writer) as session:
                    lost = scheduling.renew_leases(session, self.name, held, self.lease)
            except Exception:
                log.exception("could not renew source leases")
                continue
            if lost:
                with self._mutex:
                    self._lost |= lost

    # --- classification -------------------------------------------------------------------
    def _classify_loop(self) -> None:
        try:
            classifier_for = self._load_classifiers()
        except EcouteError as exc:
            log.error("classification is off in this process: %s", exc)
            return
        size = self.settings.classify_chunk_size
        while not self.stop.is_set():
            clock = time.monotonic()
            try:
                done = 0
                # Each authority with its own classifier: one trained on its corrections
                # re-tags only its items.
                for authority_id, slug in self._authorities():
                    written = classify_batch(self.writer, classifier_for(slug), size=size,
                                             authority_id=authority_id, reader=self.reader,
                                             settings=self.settings).classified
                    done += written
                    if written:
                        self._alerts_after_batch(authority_id)
                    if self.stop.is_set():
                        break
            except Exception:
                log.exception("classification batch failed; retrying after a pause")
                done = 0
            if done:
                self.classified += done
                CLASSIFIED.inc(done)
                CLASSIFY_SECONDS.observe(time.monotonic() - clock)
                log.debug("classified %d item(s)", done)
            else:
                self.stop.wait(self.settings.worker_poll_seconds)

    def _alerts_after_batch(self, authority_id: int) -> None:
        """Evaluate the authority's alerts on what was just classified, at most every
        ``alerts_every_seconds`` (a backlog is classified in many batches)."""
        clock = time.monotonic()
        last = self._alerts_at.get(authority_id)
        if last is not None and clock - last < self.settings.alerts_every_seconds:
            return
        self._alerts_at[authority_id] = clock
        evaluate_authorities(self.writer, self.settings, [authority_id], reader=self.reader)

    def _load_classifiers(self) -> Callable[[str], Classifier]:
        if self.classifier_factory is not None:
            only = self.classifier_factory()
            return lambda _slug: only
        from ecoute.classifiers.loader import ClassifierPool

        pool = ClassifierPool(self.settings, self.reader)
        pool.for_authority(self.settings.default_authority)  # fail now, not at the first item
        return pool.for_authority

    def _authorities(self) -> list[tuple[int, str]]:
        with session_scope(self.reader) as session:
            return [(a.id, a.slug) for a in session.scalars(select(Authority)
                                                             .order_by(Authority.id))]
