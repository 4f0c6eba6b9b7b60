"""Kill -9 harness: real ``ecoute`` processes killed at random moments lose and duplicate
nothing.

Each trial starts ``python -m ecoute run`` (or ``worker``) on a large local feed, kills it with
SIGKILL at a random moment, checks the store's invariants, and goes again; the last start runs
to completion and stops on SIGTERM. The default suite runs a few trials, ``-m slow`` twenty.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.db import make_engine, make_session_factory, session_scope, upgrade
from ecoute.domain import OVERALL
from ecoute.store.models import CollectionRun, DailyRollup, Item, RunStatus, Source, Tagging
from tests.helpers.seed import write_feed
from tests.helpers.servers import FileServer

PHRASES = ["friendly staff", "minutes of waiting", "the office is on main street",
           "accueil minable", "très bien merci"]


def _env(db_url: str, model: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOUTE_")}
    env.update(
        ECOUTE_DATABASE_URL=db_url, ECOUTE_MODEL_DIR=str(model), ECOUTE_HTTP_ALLOW_PRIVATE="1",
        ECOUTE_WORKER_POLL_SECONDS="0.2", ECOUTE_SCHEDULER_SYNC_SECONDS="1",
        ECOUTE_CLASSIFY_BATCH_SIZE="64", ECOUTE_TORCH_THREADS="1",
        # An interrupted run is not the source's fault: keep it out of back-off.
        ECOUTE_SOURCE_FAILURE_THRESHOLD="1000",
    )
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "ecoute", *args], env=env, cwd=cwd,
                                stdout=out, stderr=subprocess.STDOUT)


def _wait(condition: Callable[[], bool], timeout: float, proc: subprocess.Popen[bytes] | None,
          log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"ecoute exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not done in {timeout} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)


def check_invariants(factory: sessionmaker[Session], expected: int, served_etag: str | None
                     ) -> tuple[int, int]:
    """What must hold at any moment, even right after a SIGKILL; returns (items, classified)."""
    with session_scope(factory) as session:
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for all the counts, while workers keep committing.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        items = session.scalar(select(func.count()).select_from(Item)) or 0
        distinct = session.scalar(select(func.count(func.distinct(Item.external_id)))) or 0
        assert items == distinct <= expected
        taggings = session.execute(
            select(Tagging.item_id, Tagging.model_version, func.count())
            .group_by(Tagging.item_id, Tagging.model_version).having(func.count() > 1)
        ).all()
        assert taggings == [], "an item was classified twice by one model version"
        classified = session.scalar(
            select(func.count()).select_from(Item).where(Item.classified_version.is_not(None))
        ) or 0
        # Rollups equal a recount from the taggings of the classified items.
        recount = dict(session.execute(
            select(Tagging.sentiment, func.count()).join(
                Item, (Item.id == Tagging.item_id) & (Item.classified_version == Tagging.model_version)
            ).group_by(Tagging.sentiment)
        ).all())
        pos, neg, neu = session.execute(
            select(func.coalesce(func.sum(DailyRollup.pos), 0),
                   func.coalesce(func.sum(DailyRollup.neg), 0),
                   func.coalesce(func.sum(DailyRollup.neu), 0))
            .where(DailyRollup.determinant == OVERALL)
        ).one()
        assert (pos, neg, neu) == (recount.get("positive", 0), recount.get("negative", 0),
                                   recount.get("neutral", 0))
        assert pos + neg + neu == classified
        # The source's validator (its cursor for a feed) is only stored once everything is.
        for source in session.scalars(select(Source)):
            if served_etag is not None and source.etag == served_etag:
                assert items == expected, "the stored ETag is ahead of the stored items"
    return items, classified


def _kill_trials(tmp_path: Path, file_server: FileServer, model: Path, *, entries: int,
                 trials: int, seed: int) -> None:
    rng = random.Random(seed)
    db = tmp_path / "ecoute.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    factory = make_session_factory(engine)
    texts = [f"{PHRASES[n % len(PHRASES)]} {n}" for n in range(entries)]
    write_feed(file_server.root / "big.rss", texts)
    with session_scope(factory) as session:
        add_source(session, authority="demo", name="big", kind="rss",
                   options={"url": file_server.url("big.rss")}, schedule="every 1 minute")
    env = _env(f"sqlite:///{db}", model)
    log = tmp_path / "ecoute.log"
    served = _etag(file_server)
    for trial in range(trials):
        proc = _start(["run", "--port", str(_free_port())], env, tmp_path, log)
        try:
            time.sleep(rng.uniform(1.0, 14.0))
            assert proc.poll() is None, log.read_text()[-3000:]
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        items, classified = check_invariants(factory, entries, served)
        print(f"trial {trial}: killed with {items} items, {classified} classified")
    port = _free_port()
    proc = _start(["run", "--port", str(port)], env, tmp_path, log)
    try:
        # Up first (its stop handlers installed, the dead runs closed): the killed processes
        # may already have stored and classified everything.
        _wait(lambda: _answers(port), 60, proc, log)
        _wait(lambda: check_invariants(factory, entries, served) == (entries, entries), 240,
              proc, log)
    except BaseException:
        proc.kill()
        proc.wait(10)
        raise
    with session_scope(factory) as session:
        # Runs left "running" by the killed processes were closed at start-up.
        assert session.scalar(select(func.count()).select_from(CollectionRun)
                              .where(CollectionRun.status == RunStatus.RUNNING)) == 0
        assert session.scalar(select(Source.etag)) == served
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0, log.read_text()[-3000:]
    engine.dispose()


def _answers(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _etag(server: FileServer) -> str | None:
    """The ETag the feed is served with (what the source stores after a complete run)."""
    import httpx

    return httpx.get(server.url("big.rss")).headers.get("etag")


def test_killed_ecoute_run_loses_and_duplicates_nothing(
    tmp_path: Path, file_server: FileServer, tiny_model_dir: Path
) -> None:
    _kill_trials(tmp_path, file_server, tiny_model_dir, entries=1500, trials=2, seed=1)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_twenty_kills_on_a_20000_entry_feed(
    tmp_path: Path, file_server: FileServer, tiny_model_dir: Path
) -> None:
    _kill_trials(tmp_path, file_server, tiny_model_dir, entries=20_000, trials=20, seed=20)


def test_a_killed_postgres_worker_is_taken_over_without_double_work(
    pg_engine: Engine, tmp_path: Path, tiny_model_dir: Path
) -> None:
    upgrade(pg_engine)
    factory = make_session_factory(pg_engine)
    settings = Settings(database_url=pg_engine.url.render_as_string(hide_password=False),
                        collect_batch_size=1000)
    entries = 1000
    feed = write_feed(tmp_path / "f.rss", [f"{PHRASES[n % 5]} {n}" for n in range(entries)])
    with session_scope(factory) as session:
        sid = add_source(session, authority="demo", name="f", kind="rss",
                         options={"url": str(feed)}, schedule="manual").id
    assert run_source(factory, settings, sid).new == entries
    with pg_engine.connect() as conn:
        schema = conn.scalar(text("SELECT current_schema()"))
    url = settings.database_url + f"?options=-csearch_path%3D{schema}"
    env = _env(url, tiny_model_dir, ECOUTE_CLASSIFY_BATCH_SIZE="16")
    log = tmp_path / "workers.log"
    args = ["worker", "--no-collect"]
    victim, survivor = _start(args, env, tmp_path, log), _start(args, env, tmp_path, log)

    def classified() -> int:
        return check_invariants(factory, entries, None)[1]

    try:
        _wait(lambda: classified() > 150, 120, victim, log)
        victim.send_signal(signal.SIGKILL)  # mid-batch, holding row locks
        victim.wait(10)
        _wait(lambda: classified() == entries, 240, survivor, log)
    except BaseException:
        for proc in (victim, survivor):
            proc.kill()
            proc.wait(10)
        raise
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Tagging)) == entries
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(60) == 0, log.read_text()[-3000:]
