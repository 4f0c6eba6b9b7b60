"""Usage errors as a user meets them: a short usage message or one line, never a traceback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecoute.cli._help import readable_metavars
from ecoute.config.settings import Settings
from ecoute.daemon import RunOptions, run_process
from ecoute.errors import PortInUse
from tests.cli.test_commands import ecoute


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another program is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and "File \"" not in stderr


@pytest.mark.parametrize(("args", "expected"), [
    (["sources", "add", "x"], "Missing option '--kind'"),
    (["sources", "tets"], "No such command 'tets'"),
    (["classify", "--limit", "abc"], "Invalid value for '--limit'"),
])
def test_usage_errors_give_the_usage_message_and_exit_2(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    result = ecoute(tmp_path, *args, check=False)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Usage: ecoute" in result.stderr
    _no_traceback(result.stderr)


def test_a_malformed_database_url_is_one_line(tmp_path: Path) -> None:
    result = ecoute(tmp_path, "sources", "list", check=False,
                    env={"ECOUTE_DATABASE_URL": "postgresql://me:secret@db:port5432/x"})
    assert result.returncode == 1
    _no_traceback(result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "is not a database URL" in result.stderr and "secret" not in result.stderr


@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_port_in_use_is_one_line_and_exit_1(tmp_path: Path, busy_port: int,
                                              command: str) -> None:
    ecoute(tmp_path, "db", "upgrade")
    result = ecoute(tmp_path, command, "--port", str(busy_port), check=False)
    assert result.returncode == 1
    _no_traceback(result.stderr)
    assert result.stderr.strip().splitlines() == [
        f"error: port {busy_port} on 127.0.0.1 is already in use by another program (stop "
        "that program or choose another port with --port)"]


def test_a_port_in_use_starts_no_scheduler_nor_worker(
    sqlite_engine: Engine, tmp_path: Path, busy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=sqlite_engine.url.render_as_string(),
                        cache_dir=tmp_path / "cache")
    started: list[str] = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self.name))
    with pytest.raises(PortInUse):
        run_process(settings, RunOptions(port=busy_port))
    assert started == []


def test_help_shows_readable_placeholders(tmp_path: Path) -> None:
    shown = ecoute(tmp_path, "sources", "add", "--help").stdout
    assert "<" not in shown and "list[str]" not in shown
    assert "NAME" in shown and "TEXT" in shown
    assert "INTEGER" in ecoute(tmp_path, "classify", "--help").stdout


def test_every_command_has_readable_placeholders() -> None:
    import typer.main

    from ecoute.cli import app

    def walk(command: object) -> Iterator[object]:
        yield from getattr(command, "params", [])
        for sub in getattr(command, "commands", {}).values():
            yield from walk(sub)

    built = typer.main.get_command(app)
    readable_metavars(built)
    for param in walk(built):
        metavar = getattr(param, "metavar", None)
        assert metavar is None or ("<" not in metavar and "[str]" not in metavar), param
