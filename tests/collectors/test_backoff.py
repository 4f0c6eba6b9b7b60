"""Source health: back-off after repeated failures, and what `ecoute sources` shows of it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.backoff import backoff_delay, source_health
from ecoute.collectors.runner import SourceRunner
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.errors import RunInterrupted
from ecoute.store.db import session_scope
from ecoute.store.models import Source, utcnow
from tests.helpers.seed import write_feed
from tests.cli.test_commands import ecoute


def test_backoff_starts_at_the_threshold_doubles_and_is_capped() -> None:
    settings = Settings(database_url="sqlite:///unused.db", source_failure_threshold=3,
                        backoff_base_seconds=60, backoff_max_seconds=1000)
    delays = [backoff_delay(n, settings) for n in range(1, 7)]
    assert delays[:2] == [None, None]
    assert delays[2:] == [timedelta(seconds=s) for s in (240, 480, 960, 1000)]
    assert backoff_delay(10_000, settings) == timedelta(seconds=1000)


def test_runner_backs_off_a_failing_source_and_clears_on_success(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"source_failure_threshold": 2,
                                           "backoff_base_seconds": 30.0,
                                           "backoff_max_seconds": 100.0})
    feed = tmp_path / "later.rss"
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="later", kind="rss",
                               options={"url": str(feed)}).id

    def state() -> tuple[int, float | None, str, bool]:
        with session_scope(factory) as session:
            source = session.get(Source, source_id)
            assert source is not None
            wait = (source.next_run_at - utcnow()).total_seconds() if source.next_run_at \
                else None
            health = source_health(source, settings)
            return source.consecutive_failures, wait, health.state, health.flagged

    run_source(factory, settings, source_id)
    assert state() == (1, None, "failed", False)  # one failure: retried on schedule
    run_source(factory, settings, source_id)
    failures, wait, health, flagged = state()
    assert (failures, health, flagged) == (2, "backing off", True)
    assert wait is not None and 55 < wait <= 60  # 30 × 2^(2−1)
    run_source(factory, settings, source_id)
    failures, wait, _health, _flagged = state()
    assert failures == 3 and wait is not None and 95 < wait <= 100  # 120, capped at 100

    write_feed(feed, ["Merci pour l'accueil"])
    assert run_source(factory, settings, source_id).new == 1
    assert state() == (0, None, "ok", False)


def test_sources_test_and_list_show_items_errors_and_back_off(tmp_path: Path) -> None:
    env = {"ECOUTE_SOURCE_FAILURE_THRESHOLD": "1"}
    ecoute(tmp_path, "db", "upgrade")
    feed = write_feed(tmp_path / "avis.rss", [f"Avis numéro {n}" for n in range(1, 8)])
    ecoute(tmp_path, "sources", "add", "avis", "--kind", "rss", "--option", f"url={feed}")
    ecoute(tmp_path, "sources", "add", "gone", "--kind", "rss", "--option",
           f"url={tmp_path / 'gone.rss'}")

    shown = ecoute(tmp_path, "sources", "test", "avis", "--limit", "3").stdout
    assert "Avis numéro 1" in shown and "Avis numéro 3" in shown
    assert "Avis numéro 4" not in shown and "3 item(s) shown" in shown
    failed = ecoute(tmp_path, "sources", "test", "gone", check=False)
    assert failed.returncode == 1 and "cannot read the file" in failed.stderr
    assert "Traceback" not in failed.stderr

    ecoute(tmp_path, "sources", "run", "avis")
    assert ecoute(tmp_path, "sources", "run", "gone", env=env, check=False).returncode == 1
    rows = {r["name"]: r for r in
            json.loads(ecoute(tmp_path, "sources", "list", "--json", env=env).stdout)}
    assert rows["avis"]["items"] == 7 and rows["avis"]["health"] == "ok"
    assert rows["avis"]["last_success_at"] and rows["avis"]["last_error"] is None
    assert rows["gone"]["health"] == "backing off" and rows["gone"]["flagged"] is True
    assert rows["gone"]["backing_off_until"] and rows["gone"]["last_success_at"] is None
    assert "cannot read the file" in rows["gone"]["last_error"]
    table = ecoute(tmp_path, "sources", "list", env=env).stdout
    assert "backing off" in table and "next try" in table and "never" in table


def test_a_run_stopped_from_outside_does_not_count_as_a_failure(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    """A shutdown or a lost lease keeps what was stored and leaves the source's health alone;
    a run over its own time limit is the source's doing and counts."""
    settings = settings.model_copy(update={"source_failure_threshold": 1,
                                           "backoff_base_seconds": 600.0})
    feed = write_feed(tmp_path / "big.rss", [f"Avis numéro {n}" for n in range(6)])
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="big", kind="rss",
                               options={"url": str(feed)}).id

    def stop_after(n: int, *, source_fault: bool) -> Callable[[], None]:
        seen = iter(range(n))

        def interrupt() -> None:
            if next(seen, None) is None:
                raise RunInterrupted("ecoute is shutting down", source_fault=source_fault)
        return interrupt

    settings = settings.model_copy(update={"collect_batch_size": 1})
    report = SourceRunner(factory, settings, interrupt=stop_after(2, source_fault=False)).run(
        source_id)
    assert report.error and report.new >= 2
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        assert (source.consecutive_failures, source.next_run_at, source.last_error) == (0, None,
                                                                                        None)
        assert source_health(source, settings).flagged is False
    report = SourceRunner(factory, settings, interrupt=stop_after(0, source_fault=True)).run(
        source_id)
    assert report.error
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        assert source.consecutive_failures == 1 and source.next_run_at is not None
        assert source.last_error
