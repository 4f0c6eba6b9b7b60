"""Run requests, source leases, orphaned runs and retention, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.service import add_source
from ecoute.store import scheduling
from ecoute.store import sources as source_repo
from ecoute.store.db import session_scope
from ecoute.store.models import CollectionRun, Quarantine, RunStatus, Source, utcnow

LEASE = timedelta(seconds=60)


def _source(factory: sessionmaker[Session], tmp_path: Path, name: str = "feed") -> int:
    with session_scope(factory) as session:
        return add_source(session, authority="demo", name=name, kind="rss",
                          options={"url": str(tmp_path / f"{name}.rss")}).id


def test_requests_coalesce_and_only_enabled_sources_become_due(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    sid = _source(factory, tmp_path)
    other = _source(factory, tmp_path, "off")
    first = utcnow() - timedelta(minutes=5)
    with session_scope(factory) as session:
        session.get(Source, other).enabled = False  # type: ignore[union-attr]
    with session_scope(factory) as session:
        assert scheduling.request_run(session, sid, now=first)
        assert scheduling.request_run(session, sid)  # a second request keeps the first time
        assert not scheduling.request_run(session, other)
    with session_scope(factory) as session:
        assert session.get(Source, sid).due_at == first  # type: ignore[union-attr]
        assert scheduling.due_source_ids(session) == [sid]


def test_one_claim_at_a_time_and_expired_leases_are_taken_over(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    sid = _source(factory, tmp_path)
    with session_scope(factory) as session:
        scheduling.request_run(session, sid)
    with session_scope(factory) as session:
        assert scheduling.claim_source(session, sid, "a", LEASE) is not None
        run_id = source_repo.start_run(session, sid).id
    with session_scope(factory) as session:
        assert scheduling.claim_source(session, sid, "b", LEASE) is None
        assert scheduling.due_source_ids(session) == []
        # A live lease protects the run from the orphan sweep.
        assert scheduling.close_orphaned_runs(session) == 0
    later = utcnow() + LEASE + timedelta(seconds=1)
    with session_scope(factory) as session:
        claim = scheduling.claim_source(session, sid, "b", LEASE, now=later)
        assert claim is not None and claim.taken_over
    with session_scope(factory) as session:
        run = session.get(CollectionRun, run_id)
        assert run is not None and run.status == RunStatus.FAILED
        assert "stopped before it finished" in (run.error or "")
        # "a" lost it: renewing tells it so, and its release does not free b's lease.
        assert scheduling.renew_leases(session, "a", [sid], LEASE) == {sid}
        scheduling.release_source(session, sid, "a", started=utcnow(), succeeded=True)
    with session_scope(factory) as session:
        assert session.get(Source, sid).claimed_by == "b"  # type: ignore[union-attr]


def test_release_answers_the_request_and_a_backing_off_source_is_due_at_its_retry(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    sid = _source(factory, tmp_path)
    retry = utcnow() + timedelta(minutes=8)
    for succeeded, backoff, due in ((True, None, None), (False, None, None),
                                    (False, retry, retry)):
        with session_scope(factory) as session:
            scheduling.request_run(session, sid)
            assert scheduling.claim_source(session, sid, "w", LEASE)
            source = session.get(Source, sid)
            assert source is not None
            source.next_run_at = backoff  # what the runner decided
            source.consecutive_failures = 0 if succeeded else 3
        with session_scope(factory) as session:
            scheduling.release_source(session, sid, "w", started=utcnow(), succeeded=succeeded)
        with session_scope(factory) as session:
            source = session.get(Source, sid)
            assert source is not None and source.claimed_by is None
            assert source.due_at == due
        with session_scope(factory) as session:
            source = session.get(Source, sid)
            source.next_run_at, source.consecutive_failures = None, 0  # type: ignore[union-attr]


def test_a_request_made_during_the_run_stays_due(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    sid = _source(factory, tmp_path)
    started = utcnow() - timedelta(seconds=30)
    with session_scope(factory) as session:
        scheduling.request_run(session, sid, now=started + timedelta(seconds=10))
        scheduling.release_source(session, sid, "w", started=started, succeeded=True)
    with session_scope(factory) as session:
        assert session.get(Source, sid).due_at is not None  # type: ignore[union-attr]


def test_backing_off_sources_are_not_due_until_their_retry_time(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    sid = _source(factory, tmp_path)
    with session_scope(factory) as session:
        source = session.get(Source, sid)
        assert source is not None
        source.consecutive_failures = 3
        source.next_run_at = utcnow() + timedelta(minutes=4)
        scheduling.request_run(session, sid)
    with session_scope(factory) as session:
        assert scheduling.due_source_ids(session) == []
        assert scheduling.claim_source(session, sid, "w", LEASE) is None
        later = utcnow() + timedelta(minutes=5)
        assert scheduling.due_source_ids(session, now=later) == [sid]


def test_purge_of_runs_keeps_running_and_recent_runs_and_the_quarantine(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    sid = _source(factory, tmp_path)
    old = utcnow() - timedelta(days=400)
    with session_scope(factory) as session:
        for age, status in ((old, RunStatus.SUCCESS), (utcnow(), RunStatus.SUCCESS),
                            (old, RunStatus.RUNNING)):
            session.add(CollectionRun(source_id=sid, started_at=age, status=status))
        for resolved in (old, utcnow(), None):
            row = source_repo.add_quarantine(session, source_id=sid, run_id=None, payload="x",
                                             position="line 1", error_class="E", message="m")
            row.resolved_at = resolved
    with session_scope(factory) as session:
        assert scheduling.purge_finished_runs(session, runs_days=180) == 1
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Quarantine)) == 3
        assert session.scalar(select(func.count()).select_from(CollectionRun)) == 2
        assert scheduling.purge_finished_runs(session, runs_days=0) == 0
