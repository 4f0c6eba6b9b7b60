"""One view of a source for the API and the command line: the same health and back-off."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from ecoute.api.app import create_app
from ecoute.config.settings import Settings
from tests.helpers.seed import write_feed
from tests.cli.test_commands import ecoute

SHARED = ("id", "name", "kind", "enabled", "options", "schedule", "items", "last_run_at",
          "last_success_at", "last_error", "consecutive_failures", "health", "flagged",
          "backing_off_until", "quarantined")


def _same(value: Any) -> Any:
    """CLI JSON prints datetimes with str(), the API in ISO 8601: compare the instants."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def test_api_and_cli_list_the_same_health_and_back_off(tmp_path: Path) -> None:
    env = {"ECOUTE_SOURCE_FAILURE_THRESHOLD": "1"}
    ecoute(tmp_path, "db", "upgrade")
    feed = write_feed(tmp_path / "avis.rss", ["Accueil aimable", "Attente longue"])
    ecoute(tmp_path, "sources", "add", "avis", "--kind", "rss", "--option", f"url={feed}")
    ecoute(tmp_path, "sources", "add", "gone", "--kind", "rss", "--option",
           f"url={tmp_path / 'gone.rss'}")
    ecoute(tmp_path, "sources", "run", "avis")
    ecoute(tmp_path, "sources", "run", "gone", env=env, check=False)
    cli = {r["name"]: r for r in
           json.loads(ecoute(tmp_path, "sources", "list", "--json", env=env).stdout)}
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}",
                        source_failure_threshold=1)
    with TestClient(create_app(settings)) as client:
        api = {r["name"]: r for r in client.get("/api/v1/sources").json()}
    assert set(api) == set(cli) == {"avis", "gone"}
    for name in api:
        assert {k: _same(api[name][k]) for k in SHARED} == {k: _same(cli[name][k])
                                                             for k in SHARED}, name
    assert api["gone"]["health"] == "backing off" and api["gone"]["flagged"] is True
    assert api["gone"]["backing_off_until"] is not None
    assert (api["avis"]["health"], api["avis"]["items"]) == ("ok", 2)
