"""``ecoute volunteers`` as a town hall runs it: volunteers and a team set up, the day's
phone export judged, the month's hours written."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from ecoute.cli.volunteers import parse_slot
from ecoute.errors import InvalidRequest
from tests.cli.test_commands import ecoute
from tests.conftest import FIXTURES


def test_slots_read_in_french_or_english() -> None:
    assert parse_slot("mon 08:30-12:00") == {"weekday": 0, "start": "08:30", "end": "12:00"}
    assert parse_slot("vendredi 8h30-17h00") == {"weekday": 4, "start": "08:30",
                                                 "end": "17:00"}
    assert parse_slot("dim 10:00-24:00")["end"] == "23:59"
    for bad in ("monday", "xyz 08:00-09:00", "tue 12:00-08:00"):
        with pytest.raises(InvalidRequest):
            parse_slot(bad)


def test_a_town_hall_sets_up_its_team_and_reads_the_hours(tmp_path: Path) -> None:
    ecoute(tmp_path, "db", "upgrade")
    ecoute(tmp_path, "volunteers", "add", "Anne Martin", "Anne@Valmont.example",
           "--slot", "mon 08:30-12:00", "--slot", "jeudi 14h00-17h30", "--skill", "état civil",
           "--department", "Accueil")
    ecoute(tmp_path, "volunteers", "add", "Bruno Petit", "bruno@valmont.example")
    refused = ecoute(tmp_path, "volunteers", "add", "Anne", "anne@valmont.example",
                     check=False)
    assert refused.returncode != 0 and "already exists" in refused.stderr + refused.stdout
    ecoute(tmp_path, "volunteers", "team", "Accueil mairie", "--name", "Renfort accueil",
           "--member", "anne@valmont.example", "--member", "bruno@valmont.example",
           "--abandon-rate", "0.25")
    people = json.loads(ecoute(tmp_path, "volunteers", "list", "--json").stdout)
    assert [(p["name"], p["email"], p["department"]) for p in people] == [
        ("Anne Martin", "anne@valmont.example", "Accueil"),
        ("Bruno Petit", "bruno@valmont.example", None)]
    assert people[0]["availability"][1] == {"weekday": 3, "start": "14:00", "end": "17:30"}
    teams = json.loads(ecoute(tmp_path, "volunteers", "teams", "--json").stdout)
    assert teams[0]["members"] == ["anne@valmont.example", "bruno@valmont.example"]
    assert teams[0]["thresholds"] == {"abandon_rate": 0.25}

    # Yesterday's export of the phone system (the recorded day, moved to yesterday).
    yesterday = date.today() - timedelta(days=1)
    export = tmp_path / "exports" / "standard.csv"
    export.parent.mkdir()
    export.write_text((FIXTURES / "call_log" / "overload_day.csv").read_text(encoding="utf-8")
                      .replace("05/03/2024", f"{yesterday:%d/%m/%Y}"), encoding="utf-8")
    ecoute(tmp_path, "sources", "add", "standard", "--kind", "call_log", "--option",
           f"path={export.parent}")
    ecoute(tmp_path, "sources", "run", "standard")
    outcome = json.loads(ecoute(tmp_path, "volunteers", "check", "--json").stdout)
    # Its two overloads are recorded (with the team's 25 %, the first starts a quarter of an
    # hour later and ends a quarter of an hour sooner); over hours ago, they call nobody.
    assert (outcome["opened"], outcome["closed"], outcome["activated"]) == (2, 2, 0)
    again = json.loads(ecoute(tmp_path, "volunteers", "check", "--json").stdout)
    assert (again["opened"], again["closed"]) == (0, 0)
    csv_file = tmp_path / "hours.csv"
    ecoute(tmp_path, "volunteers", "hours", "--month", f"{yesterday:%Y-%m}", "--csv",
           str(csv_file))
    assert csv_file.read_text(encoding="utf-8").splitlines()[0] == \
        "volunteer;email;department;calls;hours;fte"
    ecoute(tmp_path, "volunteers", "remove", "bruno@valmont.example")
    assert len(json.loads(ecoute(tmp_path, "volunteers", "list", "--json").stdout)) == 1
