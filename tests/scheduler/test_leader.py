"""The scheduler: source jobs follow the sources table, missed runs coalesce, one leader."""

from __future__ import annotations

import pickle
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.scheduler import leader as scheduler_mod
from ecoute.collectors.service import add_source
from ecoute.config.settings import Settings
from ecoute.scheduler.leader import Scheduler
from ecoute.store.db import make_writer_factory, session_scope
from ecoute.store.models import SchedulerJob, Source
from tests.helpers.smtp_server import SmtpServer


def _wait(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@contextmanager
def running(engine: Engine, factory: sessionmaker[Session], settings: Settings,
            key: int) -> Iterator[Scheduler]:
    stop = threading.Event()
    sched = Scheduler(engine, factory, settings, lock_key=key)
    thread = threading.Thread(target=sched.run, args=(stop,))
    thread.start()
    try:
        yield sched
    finally:
        stop.set()
        thread.join(20)
        assert not thread.is_alive()


@contextmanager
def leader_and_follower(engine: Engine, key: int) -> Iterator[tuple[Scheduler, Scheduler]]:
    """Two schedulers on one migrated database: the first leads, the second follows."""
    from ecoute.store.db import make_session_factory, upgrade

    upgrade(engine)
    factory = make_session_factory(engine)
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False),
                        scheduler_sync_seconds=0.2, worker_poll_seconds=0.1)
    with running(engine, factory, settings, key) as leader:
        _wait(leader.leading.is_set)
        with running(engine, factory, settings, key) as follower:
            time.sleep(0.5)
            assert not follower.leading.is_set()
            yield leader, follower


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"scheduler_sync_seconds": 0.2, "worker_poll_seconds": 0.1})


@pytest.fixture
def lock_key() -> int:
    """A lock key of the test's own, so that parallel runs on one server do not collide."""
    return random.randrange(1, 2**40)


def _add(factory: sessionmaker[Session], tmp_path: Path, name: str, schedule: str) -> int:
    with session_scope(factory) as session:
        return add_source(session, authority="demo", name=name, kind="rss",
                          options={"url": str(tmp_path / "f.rss")}, schedule=schedule).id


def _source(factory: sessionmaker[Session], sid: int) -> Source:
    with session_scope(factory) as session:
        source = session.get(Source, sid)
        assert source is not None
        return source


def test_jobs_follow_the_sources_table_without_restart(
    engine: Engine, factory: sessionmaker[Session], fast: Settings, tmp_path: Path, lock_key: int
) -> None:
    first = _add(factory, tmp_path, "first", "every 30 minutes")
    with running(engine, factory, fast, lock_key) as sched:
        _wait(sched.leading.is_set)
        # Never collected: asked for at once, not in 30 minutes.
        _wait(lambda: _source(factory, first).due_at is not None)
        second = _add(factory, tmp_path, "second", "cron: 0 7 * * 1")
        _wait(lambda: sched.aps is not None and sched.aps.get_job(f"source:{second}") is not None)
        # An officer's edit while the scheduler writes beside it: the one writer at a time
        # takes SQLite's write lock when it begins, as ecoute's own writers do.
        with session_scope(make_writer_factory(engine)) as session:
            session.get(Source, first).schedule = "every 2 hours"  # type: ignore[union-attr]
            session.get(Source, second).enabled = False  # type: ignore[union-attr]
        assert sched.aps is not None
        _wait(lambda: sched.aps.get_job(f"source:{second}") is None)  # type: ignore[union-attr]
        _wait(lambda: "every 2 hours" in sched.aps.get_job(f"source:{first}").name)  # type: ignore
        job = sched.aps.get_job(f"source:{first}")
        assert job.trigger.interval == timedelta(hours=2)
    # Source jobs persist in the migrated table.
    with session_scope(factory) as session:
        assert session.scalars(select(SchedulerJob.id)).all() == [f"source:{first}"]


def test_missed_runs_after_downtime_run_once(
    engine: Engine, factory: sessionmaker[Session], fast: Settings, tmp_path: Path,
    lock_key: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sid = _add(factory, tmp_path, "feed", "every 1 minute")
    with session_scope(factory) as session:
        session.get(Source, sid).last_run_at = datetime.now(timezone.utc)  # type: ignore
    with running(engine, factory, fast, lock_key) as sched:
        _wait(lambda: sched.aps is not None and sched.aps.get_job(f"source:{sid}") is not None)
    # Down for an hour: sixty slots missed (the store keeps the time in the row and in the
    # pickled job state).
    with session_scope(factory) as session:
        row = session.get(SchedulerJob, f"source:{sid}")
        assert row is not None and row.next_run_time is not None
        row.next_run_time -= 3600
        state = pickle.loads(row.job_state)
        state["next_run_time"] -= timedelta(hours=1)
        row.job_state = pickle.dumps(state)
    calls: list[int] = []
    monkeypatch.setattr(scheduler_mod, "request_source_run", calls.append)
    with running(engine, factory, fast, lock_key):
        _wait(lambda: bool(calls))
        time.sleep(1.0)
    assert calls == [sid]


def test_a_second_scheduler_follows_and_takes_over(
    pg_engine: Engine, lock_key: int
) -> None:
    with leader_and_follower(pg_engine, lock_key) as (leader, follower):
        # The leader's database session dies (its process was killed, say): the server
        # drops the lock, the leader notices and steps down, the follower leads.
        assert leader.lock.conn is not None
        leader.lock.conn.connection.dbapi_connection.close()  # type: ignore[union-attr]
        _wait(lambda: follower.leading.is_set() or leader.leading.is_set(), 20)
        _wait(lambda: follower.leading.is_set() != leader.leading.is_set(), 20)


def test_one_scheduler_leads_per_sqlite_file(
    sqlite_engine: Engine, lock_key: int
) -> None:
    """Two `ecoute run` on one SQLite file: the second follows until the first stops (or its
    process dies, which releases the file lock)."""
    with leader_and_follower(sqlite_engine, lock_key) as (leader, follower):
        assert Path(f"{sqlite_engine.url.database}.scheduler.lock").is_file()
        leader.lock.release()  # what the kernel does when the leader's process dies
        _wait(follower.leading.is_set, 20)


def test_the_leader_sends_due_digests_every_hour(
        factory: sessionmaker[Session], settings: Settings, smtp_server: SmtpServer) -> None:
    """The hourly job sends what is due now, once: a weekly digest due today at midnight."""
    from zoneinfo import ZoneInfo

    from ecoute.digest.subscriptions import subscribe
    from ecoute.store.authorities import ensure_authority

    job = scheduler_mod.PERIODIC["digest-send"]
    assert job.trigger(settings).fields[6].expressions[0].first == 1  # minute 1 of every hour
    with session_scope(factory) as session:
        owner = ensure_authority(session, "valmont", timezone="Europe/Paris")
        today = datetime.now(ZoneInfo("Europe/Paris")).weekday()
        sub = subscribe(session, owner, email="dgs@valmont.example", weekday=today, hour=0)
        sub.created_at = datetime(2020, 1, 1, tzinfo=timezone.utc)
    mail = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port,
                                       "smtp_security": "none"})
    ctx = scheduler_mod.JobContext(factory, mail)
    assert len(job.func(ctx).sent) == 1  # type: ignore[attr-defined]
    assert job.func(ctx).total == 0  # type: ignore[attr-defined]
    assert len(smtp_server.messages) == 1
