"""What an installation exposes by default: open reads said loudly at start-up, the loopback
interface unless told otherwise, the API schema under the read rule, no weak pseudonym key."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine
from typer.testing import CliRunner

from ecoute.api.app import create_app
from ecoute.cli import app as cli_app
from ecoute.config.settings import Settings, get_settings
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import make_session_factory, session_scope
from tests.helpers.logs import kept_logging

STRONG_KEY = "k" * 32


def _client(engine: Engine, settings: Settings, **update: object) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=update), engine))


def test_open_reads_are_logged_when_the_app_starts(
    engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="ecoute.api"):
        create_app(settings, engine)
    (warning,) = [r for r in caplog.records if r.name == "ecoute.api.app"]
    assert warning.levelno == logging.WARNING
    assert "without a key" in warning.message and "ECOUTE_ENV=prod" in warning.message
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ecoute.api"):
        create_app(settings.model_copy(update={"env": "prod", "pseudonym_key": STRONG_KEY}),
                   engine)
        create_app(settings.model_copy(update={"api_anonymous_read": False}), engine)
    assert not [r for r in caplog.records if r.name == "ecoute.api.app"]


@pytest.fixture
def served(sqlite_engine: Engine,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """`ecoute serve` against a migrated SQLite file; the listening socket and uvicorn's
    server replaced by a recorder, so that nothing listens."""
    calls: list[dict[str, Any]] = []
    import socket

    import uvicorn

    import ecoute.daemon

    def record(host: str, port: int) -> socket.socket:
        calls.append({"host": host, "port": port})
        return socket.socket()

    monkeypatch.setattr(ecoute.daemon, "listening_socket", record)
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    monkeypatch.setenv("ECOUTE_DATABASE_URL", sqlite_engine.url.render_as_string())
    get_settings.cache_clear()
    with kept_logging():
        yield calls
    get_settings.cache_clear()


def test_serve_says_so_on_the_console_and_binds_loopback_by_default(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 0, result.output
    assert served[-1]["host"] == "127.0.0.1"
    assert "Warning:" in result.stderr and "without a key" in result.stderr
    assert "other computers" not in result.stderr
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0"])
    assert served[-1]["host"] == "0.0.0.0"
    assert "listens on 0.0.0.0, so other computers can reach it" in result.stderr
    monkeypatch.setenv("ECOUTE_ENV", "prod")
    monkeypatch.setenv("ECOUTE_PSEUDONYM_KEY", STRONG_KEY)
    get_settings.cache_clear()
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 0, result.output
    assert "Warning:" not in result.stderr


def test_schema_and_docs_follow_the_read_rule(engine: Engine, settings: Settings) -> None:
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        town = ensure_authority(session, "valmont")
        viewer = create_key(session, role="viewer", authority=town)[1]
        ingest = create_key(session, role="ingest", authority=town)[1]
    dev = _client(engine, settings)
    assert dev.get("/openapi.json").status_code == 200
    assert dev.get("/docs").status_code == 200
    prod = _client(engine, settings, env="prod", pseudonym_key=STRONG_KEY)
    for path in ("/openapi.json", "/docs", "/redoc"):
        refused = prod.get(path)
        assert refused.status_code == 401 and "ecoute keys create" in refused.json()["hint"]
        assert prod.get(path, headers={"X-API-Key": ingest}).status_code == 403
        assert prod.get(path, headers={"Authorization": f"Bearer {viewer}"}).status_code == 200
    schema = prod.get("/openapi.json", headers={"X-API-Key": viewer}).json()
    assert "/api/v1/sources" in schema["paths"] and "/docs" not in schema["paths"]


@pytest.mark.parametrize("key", ["x", "short-key", "k" * 15])
def test_production_refuses_a_short_pseudonym_key(key: str) -> None:
    with pytest.raises(ValidationError, match="too short"):
        Settings(env="prod", pseudonym_key=key)
    assert Settings(env="dev", pseudonym_key=key).pseudonym_key == key


def test_a_long_enough_pseudonym_key_is_accepted_in_production() -> None:
    assert Settings(env="prod", pseudonym_key="k" * 16).env == "prod"

