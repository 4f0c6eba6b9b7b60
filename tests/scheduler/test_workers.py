"""Workers: due sources collected once each, items classified once each, failures isolated."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.classifiers.loader import build_classifier
from ecoute.collectors.service import add_source
from ecoute.config.settings import Settings
from ecoute.store import scheduling
from ecoute.store.db import make_session_factory, session_scope, upgrade
from ecoute.store.models import CollectionRun, DailyRollup, Item, RunStatus, Source, Tagging
from ecoute.scheduler.workers import Worker
from tests.helpers.seed import write_feed
from tests.helpers.servers import FileServer

TEXTS = ["friendly staff", "minutes of waiting", "the office is on main street"]


def _wait(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


@contextmanager
def working(worker: Worker) -> Iterator[Worker]:
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop.set()
        thread.join(60)
        assert not thread.is_alive()


def _fast(settings: Settings, model: Path | None = None, **extra: object) -> Settings:
    return settings.model_copy(update={"worker_poll_seconds": 0.1, "model_dir": model,
                                       "classify_batch_size": 16,
                                       "classify_chunk_size": 16, **extra})


def _add(factory: sessionmaker[Session], name: str, url: str) -> int:
    with session_scope(factory) as session:
        sid = add_source(session, authority="demo", name=name, kind="rss",
                         options={"url": url}).id
        scheduling.request_run(session, sid)
    return sid


def _count(factory: sessionmaker[Session], query: object) -> int:
    with session_scope(factory) as session:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def test_worker_collects_due_sources_and_classifies_them(
    engine: Engine, factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
    tiny_model_dir: Path,
) -> None:
    texts = [TEXTS[n % 3] + f" {n}" for n in range(40)]
    sid = _add(factory, "feed", str(write_feed(tmp_path / "f.rss", texts)))
    with working(Worker(engine, _fast(settings, tiny_model_dir))):
        _wait(lambda: _count(factory, select(func.count()).select_from(Item)
                             .where(Item.classified_version.is_not(None))) == 40)
    with session_scope(factory) as session:
        source = session.get(Source, sid)
        assert source is not None
        assert source.due_at is None and source.claimed_by is None
        assert source.last_success_at is not None
        assert session.scalar(select(func.count()).select_from(Tagging)) == 40
        overall = session.scalars(select(DailyRollup).where(DailyRollup.determinant == "_overall"))
        assert sum(r.pos + r.neg + r.neu for r in overall) == 40


def test_two_workers_never_classify_the_same_item(
    pg_engine: Engine, tmp_path: Path, tiny_model_dir: Path
) -> None:
    upgrade(pg_engine)
    factory = make_session_factory(pg_engine)
    settings = _fast(Settings(database_url=pg_engine.url.render_as_string(hide_password=False),
                              collect_batch_size=500), tiny_model_dir, classify_batch_size=8,
                      classify_chunk_size=8)
    texts = [TEXTS[n % 3] + f" {n}" for n in range(600)]
    _add(factory, "feed", str(write_feed(tmp_path / "f.rss", texts)))
    classifier = build_classifier(settings)
    one = Worker(pg_engine, settings, classifier_factory=lambda: classifier)
    two = Worker(pg_engine, settings, collect=False, classifier_factory=lambda: classifier)
    with working(one), working(two):
        _wait(lambda: one.classified + two.classified >= 600, 120)
        time.sleep(0.5)
    assert one.classified + two.classified == 600
    assert one.classified > 0 and two.classified > 0
    assert _count(factory, select(func.count()).select_from(Tagging)) == 600
    assert _count(factory, select(func.count(func.distinct(Tagging.item_id)))) == 600


class _Misbehaving(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        time.sleep(5)  # longer than the client's timeout
        self.send_response(200)
        self.end_headers()


@pytest.fixture
def hanging_server() -> Iterator[str]:
    """A server that answers nothing for five seconds."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Misbehaving)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed"
    server.shutdown()
    server.server_close()


def test_failing_sources_do_not_hold_back_the_others_and_recover_from_their_cursor(
    sqlite_engine: Engine, tmp_path: Path, file_server: FileServer, hanging_server: str
) -> None:
    factory = make_session_factory(sqlite_engine)
    settings = _fast(Settings(database_url=sqlite_engine.url.render_as_string(),
                              http_allow_private=True, http_timeout=1.0, http_retries=0,
                              source_failure_threshold=1, backoff_base_seconds=600),
                     None, classify=False, collect_concurrency=4)
    write_feed(file_server.root / "good.rss", TEXTS)
    write_feed(file_server.root / "later.rss", TEXTS, prefix="later")
    file_server.overrides["/broken.rss"] = (500, {}, b"oops")
    file_server.overrides["/garbage.rss"] = (200, {"Content-Type": "application/rss+xml"},
                                             b"\x00\x01 not a feed at all <<<")
    slow = _add(factory, "slow", hanging_server)
    broken = _add(factory, "broken", file_server.url("broken.rss"))
    garbage = _add(factory, "garbage", file_server.url("garbage.rss"))
    good = _add(factory, "good", file_server.url("good.rss"))
    worker = Worker(sqlite_engine, settings, classify=False)
    started = time.monotonic()
    with working(worker):
        _wait(lambda: _count(factory, select(func.count()).select_from(CollectionRun)
                             .where(CollectionRun.status != RunStatus.RUNNING)) == 4)
        good_at = _count(factory, select(func.count()).select_from(Item)
                         .where(Item.source_id == good))
        assert good_at == 3 and time.monotonic() - started < 30
        with session_scope(factory) as session:
            # Garbage is kept in quarantine for someone to look at, not silently dropped.
            run = session.scalar(select(CollectionRun).where(CollectionRun.source_id == garbage))
            assert run is not None and (run.status == RunStatus.FAILED or run.quarantined)
            for sid in (slow, broken):
                source = session.get(Source, sid)
                assert source is not None
                assert source.consecutive_failures == 1 and source.last_error
                assert source.next_run_at is not None  # backing off, not retried at once
                assert source.due_at == source.next_run_at
            assert session.get(Source, good).last_error is None  # type: ignore[union-attr]
        # The broken feed heals; once its back-off is over it is collected.
        file_server.overrides.pop("/broken.rss")
        write_feed(file_server.root / "broken.rss", TEXTS, prefix="healed")
        with session_scope(factory) as session:
            session.get(Source, broken).next_run_at = None  # type: ignore[union-attr]
            session.get(Source, broken).due_at = session.get(Source, broken).last_run_at  # type: ignore
        _wait(lambda: _count(factory, select(func.count()).select_from(Item)
                             .where(Item.source_id == broken)) == 3)
    with session_scope(factory) as session:
        healed = session.get(Source, broken)
        assert healed is not None and healed.consecutive_failures == 0
        assert healed.last_error is None
