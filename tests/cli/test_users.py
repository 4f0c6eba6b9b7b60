"""``ecoute users ...``: accounts created, listed, given a new password and disabled."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ecoute.cli import app
from ecoute.config.settings import get_settings
from ecoute.store.db import make_engine, make_session_factory, session_scope
from ecoute.store.users import authenticate_password
from tests.cli import test_keys
from tests.cli.test_keys import run

#: The same fixture: a CLI whose settings point at a fresh migrated SQLite file.
cli = test_keys.cli

PASSWORD = "a long enough passphrase"


def _signs_in(username: str, password: str) -> bool:
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return authenticate_password(session, username, password) is not None
    finally:
        engine.dispose()


def test_create_list_password_disable(cli: CliRunner) -> None:
    result = cli.invoke(app, ["users", "create", "marie", "--role", "officer",
                              "--authority", "demo", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "officer marie for authority demo created" in result.output
    assert PASSWORD not in result.output
    assert _signs_in("marie", PASSWORD) and not _signs_in("marie", PASSWORD + "!")
    output, _ = run(cli, "users", "list", "--json")
    (row,) = json.loads(output)
    assert (row["username"], row["role"], row["authority"]) == ("marie", "officer", "demo")
    result = cli.invoke(app, ["users", "password", "marie", "--password-stdin"],
                        input="another long passphrase\n")
    assert result.exit_code == 0, result.output
    assert _signs_in("marie", "another long passphrase") and not _signs_in("marie", PASSWORD)
    run(cli, "users", "disable", "marie")
    assert not _signs_in("marie", "another long passphrase")


def test_refusals_say_what_to_do(cli: CliRunner) -> None:
    short = cli.invoke(app, ["users", "create", "paul", "--role", "viewer", "--authority",
                             "demo", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10" in str(short.exception)
    unscoped = cli.invoke(app, ["users", "create", "paul", "--role", "viewer",
                                "--password-stdin"], input=PASSWORD + "\n")
    assert unscoped.exit_code == 1 and "--authority" in str(unscoped.exception)
    ingest = cli.invoke(app, ["users", "create", "paul", "--role", "ingest", "--authority",
                              "demo", "--password-stdin"], input=PASSWORD + "\n")
    assert ingest.exit_code == 1 and "officer" in str(ingest.exception)
    created = cli.invoke(app, ["users", "create", "paul", "--role", "viewer", "--authority",
                               "demo", "--password-stdin"], input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    again = cli.invoke(app, ["users", "create", "paul", "--role", "viewer", "--authority",
                             "demo", "--password-stdin"], input=PASSWORD + "\n")
    assert again.exit_code == 1 and "already exists" in str(again.exception)
