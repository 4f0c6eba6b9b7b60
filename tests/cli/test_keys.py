"""``ecoute keys ...`` and ``ecoute import``, invoked in-process on a migrated SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoute.cli import app
from ecoute.config.settings import get_settings
from tests.helpers import documents


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A CLI runner whose settings point at a fresh migrated SQLite file."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ECOUTE_DATABASE_URL", url)
    monkeypatch.setenv("ECOUTE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    runner = CliRunner()
    run(runner, "db", "upgrade")  # also creates the default authority
    yield runner
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str, ok: bool = True) -> tuple[str, BaseException | None]:
    result = cli.invoke(app, list(args))
    if ok and result.exit_code != 0:
        raise AssertionError(f"ecoute {' '.join(args)}: {result.output} {result.exception!r}")
    return result.output, result.exception


def test_create_list_revoke_keys(cli: CliRunner) -> None:
    output, _ = run(cli, "keys", "create", "--role", "ingest", "--authority", "demo",
                    "--label", "standard téléphonique")
    token = output.strip().splitlines()[-1]
    assert token.startswith("ek_") and len(token) > 40 and "shown only now" in output
    listed = json.loads(run(cli, "keys", "list", "--json")[0])
    assert [(k["role"], k["authority"], k["revoked_at"]) for k in listed] == [
        ("ingest", "demo", None)]
    assert token not in json.dumps(listed) and token.startswith(listed[0]["prefix"])
    run(cli, "keys", "revoke", listed[0]["prefix"])
    assert json.loads(run(cli, "keys", "list", "--json")[0])[0]["revoked_at"]

    _, unscoped = run(cli, "keys", "create", "--role", "viewer", ok=False)
    assert "--authority" in str(unscoped)
    _, bad_role = run(cli, "keys", "create", "--role", "boss", "--authority", "demo", ok=False)
    assert "admin, officer, viewer, ingest" in str(bad_role)
    _, missing = run(cli, "keys", "revoke", "ek_nothere", ok=False)
    assert "keys list" in str(missing)


def test_import_runs_a_file_source_on_one_file(cli: CliRunner, tmp_path: Path) -> None:
    watched = tmp_path / "watched"
    watched.mkdir()
    run(cli, "sources", "add", "cr", "--kind", "documents", "--option", f"path={watched}",
        "--option", "body=conseil d'école")
    doc = documents.write_odt(tmp_path / "CR 2026-03-12.odt")
    result = json.loads(run(cli, "import", str(doc), "--source", "cr", "--json")[0])
    assert (result["status"], result["new"]) == ("success", 4)
    assert "0 new" in run(cli, "import", str(doc), "--source", "cr")[0]
    _, missing = run(cli, "import", str(tmp_path / "nope.pdf"), "--source", "cr", ok=False)
    assert "no such file" in str(missing)
    records = tmp_path / "records.ndjson"
    records.write_text('{"external_id": "1", "text": "Très bon accueil au guichet."}\n'
                       '{"external_id": "2"}\n', encoding="utf-8")
    run(cli, "sources", "add", "appli", "--kind", "push", "--option",
        f"path={tmp_path / 'spool'}")
    output, _ = run(cli, "import", str(records), "--source", "appli")
    assert "1 new" in output and "1 quarantined" in output


def test_import_says_when_entries_are_older_than_the_retention(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECOUTE_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    records = tmp_path / "history.ndjson"
    records.write_text(
        '{"external_id": "1", "text": "Guichet fermé", "published_at": "2020-01-06T10:00:00Z"}\n'
        '{"external_id": "2", "text": "Accueil aimable"}\n', encoding="utf-8")
    run(cli, "sources", "add", "appli", "--kind", "push", "--option",
        f"path={tmp_path / 'spool'}")
    output, _ = run(cli, "import", str(records), "--source", "appli")
    assert "1 new, 1 duplicate" in output
    assert "warning" in output and "retention_days" in output
