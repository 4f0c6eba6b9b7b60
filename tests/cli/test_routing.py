"""``ecoute routing`` as a town hall runs it: rules added, listed, moved, applied, removed."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from ecoute.config.settings import Settings
from ecoute.store.db import make_engine, make_session_factory, session_scope
from ecoute.store.models import Department, Item
from tests.cli.test_commands import ecoute
from tests.helpers.feedback import classify, push

ENV = {"ECOUTE_FOLLOWUP_MAX_AGE_DAYS": "0", "ECOUTE_ROUTING_DEFAULT_DEPARTMENT": "Accueil"}


def seed_month(folder: Path) -> Settings:
    """A migrated SQLite file of authority `demo` with classified November feedback."""
    ecoute(folder, "db", "upgrade")
    settings = Settings(database_url=f"sqlite:///{folder / 'cli.db'}",
                        cache_dir=folder / "cache", followup_max_age_days=0)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    push(factory, settings, folder / "in", [
        {"external_id": "pothole", "text": "Trottoir défoncé. Attente de 3 semaines.",
         "channel": "complaint", "published_at": "2026-11-02T09:00:00+01:00"},
        {"external_id": "rude", "text": "Agent impoli <b>vraiment</b>.", "channel": "review",
         "published_at": "2026-11-10T09:00:00+01:00"},
        {"external_id": "kind", "text": "Personnel aimable.", "channel": "review",
         "published_at": "2026-11-12T09:00:00+01:00"},
    ], authority="demo")
    classify(factory, settings)
    engine.dispose()
    return settings


def _departments(settings: Settings) -> dict[str, str | None]:
    engine = make_engine(settings.database_url)
    with session_scope(make_session_factory(engine)) as session:
        found = {e: d for e, d in session.execute(select(Item.external_id, Department.name)
                                                  .outerjoin(Department, Department.id ==
                                                             Item.department_id)).all()}
    engine.dispose()
    return found


def test_rules_from_the_command_line(tmp_path: Path) -> None:
    settings = seed_month(tmp_path)
    assert set(_departments(settings).values()) == {None}  # no rule, no default yet
    added = ecoute(tmp_path, "routing", "add", "Voirie", "--keyword", "trottoir, chaussée",
                   "--channel", "complaint", env=ENV)
    assert "rule 1 added at position 1: Voirie" in added.stdout
    ecoute(tmp_path, "routing", "add", "Accueil", "--determinant", "courtesy", "--polarity",
           "negative", "--position", "1", env=ENV)
    listed = json.loads(ecoute(tmp_path, "routing", "list", "--json", env=ENV).stdout)
    assert [(r["id"], r["department"]) for r in listed["rules"]] == [(2, "Accueil"),
                                                                    (1, "Voirie")]
    assert listed["rules"][1]["criteria"] == "channel = complaint, keyword: trottoir, chaussée"
    assert listed["default_department"] == "Accueil"
    assert listed["rules"][0]["created_by"].startswith("cli")

    applied = json.loads(ecoute(tmp_path, "routing", "apply", "--since", "2026-11-01",
                                "--json", env=ENV).stdout)
    assert applied == {"routed": 3, "moved": 3, "followups_opened": 0}  # already open
    assert _departments(settings) == {"pothole": "Voirie", "rude": "Accueil", "kind": "Accueil"}

    ecoute(tmp_path, "routing", "move", "1", "1", env=ENV)
    assert [r["id"] for r in json.loads(ecoute(
        tmp_path, "routing", "list", "--json", env=ENV).stdout)["rules"]] == [1, 2]
    ecoute(tmp_path, "routing", "remove", "1", env=ENV)
    again = json.loads(ecoute(tmp_path, "routing", "apply", "--since", "2026-11-01",
                              "--until", "2026-11-05", "--json", env=ENV).stdout)
    assert again["routed"] == 1 and again["moved"] == 1  # the pothole, to the default
    assert _departments(settings)["pothole"] == "Accueil"

    refused = ecoute(tmp_path, "routing", "add", "Voirie", env=ENV, check=False)
    assert refused.returncode == 1 and "at least one criterion" in refused.stderr
    assert "Traceback" not in refused.stderr
    missing = ecoute(tmp_path, "routing", "remove", "99", env=ENV, check=False)
    assert missing.returncode == 1 and "ecoute routing list" in missing.stderr
