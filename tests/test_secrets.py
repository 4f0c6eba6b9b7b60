"""Secret source options never come back out: planted values are looked for in every API
answer, CLI output, stored error, quarantine row and log line a failing source produces."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from ecoute.api.app import create_app
from ecoute.cli import app as cli_app
from ecoute.collectors.runner import SourceRunner
from ecoute.collectors.secret_options import MASK, masked_options, secret_fields, stored_options
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings, get_settings
from ecoute.observability import configure_logging
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import CollectionRun, Quarantine, Source
from tests.helpers.logs import kept_logging
from tests.helpers.recording_server import RecordingServer, serve

API_KEY = "planted-open311-key-7f3a9c"
TOKEN = "planted-mastodon-token-41b2"
SECRETS = (API_KEY, TOKEN)


@pytest.fixture
def configured_logging(settings: Settings) -> Iterator[io.StringIO]:
    """The commands' own logging (handler, format, levels) written into a buffer it yields;
    undone afterwards."""
    with kept_logging():
        configure_logging(settings.model_copy(update={"log_level": "DEBUG"}))
        buffer = io.StringIO()
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(buffer)
        yield buffer


def _sources(factory: sessionmaker[Session], server: RecordingServer
             ) -> tuple[list[int], dict[str, str]]:
    """Two Open311 sources and a Mastodon one holding the planted secrets, and read keys."""
    with session_scope(factory) as session:
        ids = [
            add_source(session, authority="valmont", name="refused", kind="open311", options={
                "endpoint": server.url("/refused/"), "api_key": API_KEY, "initial_days": 2,
                "window_days": 1}).id,
            add_source(session, authority="valmont", name="garbled", kind="open311", options={
                "endpoint": server.url("/garbled/"), "api_key": API_KEY, "initial_days": 1,
                "services": True}).id,
            add_source(session, authority="valmont", name="toots", kind="mastodon", options={
                "instance": server.base_url, "mentions": True, "access_token": TOKEN}).id,
        ]
        valmont = ensure_authority(session, "valmont")
        keys = {role: create_key(session, role=role, authority=valmont)[1]
                for role in ("viewer", "officer", "admin")}
    return ids, keys


def test_planted_secrets_appear_in_no_answer_row_or_log_line(
    engine: Engine, factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
    configured_logging: io.StringIO, monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = RecordingServer()
    httpd = serve(server)
    server.script["/refused/requests.json"] = (403, {}, b"forbidden")
    server.script["/garbled/requests.json"] = (200, {}, b"<html>not requests</html>")
    server.script["/garbled/services.json"] = (500, {}, b"down")
    server.script["/api/v1/notifications"] = (401, {}, b'{"error": "bad token"}')
    try:
        settings = settings.model_copy(update={"http_retries": 0})
        ids, keys = _sources(factory, server)
        reports = [run_source(factory, settings, i) for i in ids]
        dry = run_source(factory, settings, ids[0], dry_run=True)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert [r.status for r in reports] == ["failed", "partial", "failed"]
    assert "api_key=" in reports[0].error and MASK in reports[0].error
    # The key did reach the server it is for: masking happens on the way out, not the way in.
    assert any(API_KEY in path for path, _h in server.received)

    shown: list[str] = [r.error or "" for r in [*reports, dry]]
    client = TestClient(create_app(settings.model_copy(
        update={"data_dir": tmp_path / "data", "default_authority": "valmont"}), engine))
    for headers in [{}, *({"Authorization": f"Bearer {k}"} for k in keys.values())]:
        answer = client.get("/api/v1/sources", headers=headers)
        assert answer.status_code == 200
        shown.append(answer.text)
        by_name = {s["name"]: s for s in answer.json()}
        assert by_name["refused"]["options"]["api_key"] == MASK
        assert by_name["toots"]["options"]["access_token"] == MASK
    with session_scope(factory) as session:
        for source in session.scalars(select(Source)):
            shown.append(repr(source.last_error))
        for run in session.scalars(select(CollectionRun)):
            shown.append(repr(run.error))
        rows = list(session.scalars(select(Quarantine)))
        assert rows  # the garbled answer was quarantined, naming its (masked) address
        shown.extend(repr((q.message, q.position, q.payload_text, q.payload_bytes)) for q in rows)
    logged = configured_logging.getvalue()  # the log lines of the runs and requests so far
    assert "ecoute.collect.open311" in logged  # captured, and searched below
    shown.append(logged)
    if settings.database_url.startswith("sqlite"):
        # The command opens the database by its URL; the PostgreSQL tests use a schema of
        # their own that a URL does not name.
        monkeypatch.setenv("ECOUTE_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("ECOUTE_DEFAULT_AUTHORITY", "valmont")
        get_settings.cache_clear()
        try:
            listed = CliRunner().invoke(cli_app, ["sources", "list", "--json"])
        finally:
            get_settings.cache_clear()
        assert listed.exit_code == 0, listed.output
        assert {row["name"] for row in json.loads(listed.stdout)} == {"refused", "garbled", "toots"}
        shown.append(listed.output)
    for text in shown:
        for secret in SECRETS:
            assert secret not in text


def test_a_database_error_is_stored_without_sql_or_record_content(
    factory: sessionmaker[Session], settings: Settings, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text("<rss version='2.0'><channel><item><guid>1</guid>"
                    "<description>Bon accueil</description></item></channel></rss>")
    with session_scope(factory) as session:
        source_id = add_source(session, authority="valmont", name="feed", kind="rss",
                               options={"url": str(feed)}).id

    def failing_persist(*args: object, **kwargs: object) -> None:
        raise IntegrityError("INSERT INTO items (text, author_hash) VALUES (?, ?)",
                             ("RECORD-CONTENT Bon accueil", "x"), Exception("UNIQUE failed"))

    monkeypatch.setattr(SourceRunner, "_persist", failing_persist)
    report = run_source(factory, settings, source_id)
    assert report.status == "failed" and "IntegrityError" in report.error
    with session_scope(factory) as session:
        stored = [session.get(Source, source_id).last_error,  # type: ignore[union-attr]
                  *(r.error for r in session.scalars(select(CollectionRun)))]
    for text in stored:
        assert text and "INSERT" not in text and "RECORD-CONTENT" not in text


def test_secret_options_convention() -> None:
    from ecoute.collectors.registry import collectors

    declared = {kind: secret_fields(cls.Options) for kind, cls in collectors().items()}
    assert declared["mastodon"] == {"access_token"} and declared["open311"] == {"api_key"}
    from ecoute.collectors.registry import validate_options

    validated = validate_options("open311", {"endpoint": "https://a.example/", "api_key": "k1"})
    assert stored_options(validated)["api_key"] == "k1"  # the collector needs it back
    assert masked_options(type(validated), {"api_key": "k1", "format": "json"}) == \
        {"api_key": MASK, "format": "json"}
    assert "k1" not in repr(validated)


def test_settings_command_hides_the_database_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOUTE_DATABASE_URL", "postgresql://ecoute:planted-db-pw@db:5432/ecoute")
    monkeypatch.setenv("ECOUTE_PSEUDONYM_KEY", "planted-pseudonym-key-0123456789")
    get_settings.cache_clear()
    try:
        with kept_logging():
            result = CliRunner().invoke(cli_app, ["settings"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["database_url"] == "postgresql+psycopg://ecoute:***@db:5432/ecoute"
    assert "planted-db-pw" not in result.output and "planted-pseudonym" not in result.output


def test_httpx_request_lines_are_not_logged(configured_logging: io.StringIO) -> None:
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING
