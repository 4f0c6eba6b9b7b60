"""The ``ecoute`` command as a user runs it (a real process, a real SQLite file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.seed import write_feed


def ecoute(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ECOUTE_")}
    full_env.update({"ECOUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
                     "ECOUTE_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1",
                     "COLUMNS": "200"})
    full_env.update(env or {})
    result = subprocess.run([sys.executable, "-m", "ecoute", *args], capture_output=True,
                            text=True, env=full_env, cwd=tmp_path, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"ecoute {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    ecoute(tmp_path, "db", "upgrade")
    return tmp_path


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    first = ecoute(tmp_path, "db", "upgrade")
    assert "revision" in first.stdout
    assert ecoute(tmp_path, "db", "upgrade").stdout == first.stdout


def test_unmigrated_database_says_what_to_do(tmp_path: Path) -> None:
    result = ecoute(tmp_path, "sources", "list", check=False)
    assert result.returncode == 1
    assert "ecoute db upgrade" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_add_list_test_run_a_source(migrated: Path, tiny_model_dir: Path) -> None:
    feed = write_feed(migrated / "avis.rss", ["Accueil chaleureux merci", "Attente interminable"])
    ecoute(migrated, "sources", "add", "avis", "--kind", "rss", "--option", f"url={feed}",
           "--option", "channel=review")
    listed = json.loads(ecoute(migrated, "sources", "list", "--json").stdout)
    assert listed[0]["name"] == "avis" and listed[0]["items"] == 0
    assert listed[0]["schedule"] == "every 30 minutes"

    dry = ecoute(migrated, "sources", "test", "avis")
    assert "Accueil chaleureux merci" in dry.stdout
    assert json.loads(ecoute(migrated, "sources", "list", "--json").stdout)[0]["items"] == 0

    run = json.loads(ecoute(migrated, "sources", "run", "avis", "--json").stdout)
    assert (run["status"], run["new"]) == ("success", 2)
    assert "0 new, 2 duplicate" in ecoute(migrated, "sources", "run", "avis").stdout

    classified = ecoute(migrated, "classify", env={"ECOUTE_MODEL_DIR": str(tiny_model_dir)})
    assert "2 item(s) classified" in classified.stdout


def test_sources_test_on_an_empty_database_says_nothing_is_stored(migrated: Path) -> None:
    entry = ("<item><guid>{guid}</guid><description>Accueil très aimable</description>"
             "<pubDate>Mon, 02 Mar 2026 10:00:00 +0100</pubDate></item>")
    # The same post twice (republished under a second guid), as feeds and timelines do.
    (migrated / "avis.rss").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        + entry.format(guid="a1") + entry.format(guid="a2") + "</channel></rss>",
        encoding="utf-8")
    ecoute(migrated, "sources", "add", "avis", "--kind", "rss", "--option",
           f"url={migrated / 'avis.rss'}")
    dry = ecoute(migrated, "sources", "test", "avis")
    assert "1 item(s) shown, 0 already stored, 1 repeated in the source" in dry.stdout


RATED_PAGE = """<html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "LocalBusiness", "name": "Piscine",
 "aggregateRating": {"@type": "AggregateRating", "ratingValue": "4.5", "ratingCount": "12"},
 "review": [{"@type": "Review", "reviewBody": "Bassin propre, personnel accueillant."}]}
</script></head><body></body></html>"""


def test_source_figures_are_listed_with_the_source(migrated: Path) -> None:
    (migrated / "piscine.html").write_text(RATED_PAGE, encoding="utf-8")
    ecoute(migrated, "sources", "add", "piscine", "--kind", "html_reviews", "--option",
           f"url={migrated / 'piscine.html'}")
    run = json.loads(ecoute(migrated, "sources", "run", "piscine", "--json").stdout)
    assert run["new"] == 1
    [listed] = json.loads(ecoute(migrated, "sources", "list", "--json").stdout)
    assert listed["items"] == 1
    [figures] = listed["figures"]
    assert (figures["subject"], figures["rating_value"], figures["best_rating"],
            figures["rating_count"]) == ("Piscine", 4.5, 5.0, 12)


def test_errors_are_one_readable_line(migrated: Path) -> None:
    result = ecoute(migrated, "sources", "add", "x", "--kind", "nope", check=False)
    assert result.returncode == 1
    assert "no collector for source kind 'nope'" in result.stderr and "rss" in result.stderr
    assert "Traceback" not in result.stderr
    result = ecoute(migrated, "sources", "add", "x", "--kind", "rss", "--option", "colour=red",
                    check=False)
    assert "invalid options for a rss source" in result.stderr and "url" in result.stderr
    result = ecoute(migrated, "sources", "run", "missing", check=False)
    assert result.returncode == 1 and "no source named 'missing'" in result.stderr
    debug = ecoute(migrated, "--debug", "sources", "run", "missing", check=False)
    assert "Traceback" in debug.stderr


def test_failing_source_run_exits_non_zero(migrated: Path) -> None:
    ecoute(migrated, "sources", "add", "gone", "--kind", "rss", "--option",
           f"url={migrated / 'nope.xml'}")
    result = ecoute(migrated, "sources", "run", "gone", check=False)
    assert result.returncode == 1 and "cannot read the file" in result.stderr
    listed = json.loads(ecoute(migrated, "sources", "list", "--json").stdout)
    assert listed[0]["consecutive_failures"] == 1


def test_bad_setting_is_reported(tmp_path: Path) -> None:
    result = ecoute(tmp_path, "db", "upgrade", env={"ECOUTE_MIN_SAMPLE_SIZE": "lots"},
                    check=False)
    assert result.returncode == 1 and "min_sample_size" in result.stderr


def test_collectors_lists_kinds_and_options(tmp_path: Path) -> None:
    data = json.loads(ecoute(tmp_path, "collectors", "--json").stdout)
    rss = next(c for c in data if c["kind"] == "rss")
    assert "url" in rss["options"] and rss["required"] == ["url"]


def test_change_and_remove_a_source(migrated: Path) -> None:
    feed = write_feed(migrated / "avis.rss", ["Accueil chaleureux merci"])
    ecoute(migrated, "sources", "add", "avis", "--kind", "rss", "--option", f"url={feed}")
    bad = ecoute(migrated, "sources", "set", "avis", "--schedule", "now and then", check=False)
    assert bad.returncode == 1 and "schedule" in bad.stderr and "Traceback" not in bad.stderr
    bad = ecoute(migrated, "sources", "set", "avis", "--option", "url=/no/such/feed.xml",
                 check=False)
    assert bad.returncode == 1 and "url: '/no/such/feed.xml' does not exist" in bad.stderr
    ecoute(migrated, "sources", "set", "avis", "--schedule", "every 2 hours", "--option",
           "channel=review")
    ecoute(migrated, "sources", "disable", "avis")
    [listed] = json.loads(ecoute(migrated, "sources", "list", "--json").stdout)
    assert (listed["schedule"], listed["enabled"], listed["health"]) == (
        "every 2 hours", False, "disabled")
    ecoute(migrated, "sources", "enable", "avis")
    ecoute(migrated, "sources", "run", "avis")
    kept = ecoute(migrated, "sources", "remove", "avis", "--keep-items")
    assert "its items are kept" in kept.stdout
    assert json.loads(ecoute(migrated, "sources", "list", "--json").stdout) == []
    ecoute(migrated, "sources", "add", "avis", "--kind", "rss", "--option", f"url={feed}")
    ecoute(migrated, "sources", "run", "avis")
    assert "with its 1 item(s)" in ecoute(migrated, "sources", "remove", "avis").stdout


def test_quarantine_commands(migrated: Path) -> None:
    folder = migrated / "minutes"
    folder.mkdir()
    (folder / "conseil.txt").write_text(
        "Les parents signalent que la cantine est froide et que l'attente dépasse vingt "
        "minutes.", encoding="utf-8")
    ecoute(migrated, "sources", "add", "cr", "--kind", "documents", "--option",
           f"path={folder}", "--option", "encoding=ascii", "--option", "pattern=*.txt")
    run = json.loads(ecoute(migrated, "sources", "run", "cr", "--json").stdout)
    assert run["status"] == "partial" and run["rejected"][0]["position"] == "conseil.txt"
    [source] = json.loads(ecoute(migrated, "sources", "list", "--json").stdout)
    assert (source["health"], source["quarantined"]) == ("quarantine", 1)
    assert "in quarantine" in ecoute(migrated, "sources", "list").stdout

    [entry] = json.loads(ecoute(migrated, "quarantine", "list", "--source", "cr",
                                "--json").stdout)
    shown = ecoute(migrated, "quarantine", "show", str(entry["id"])).stdout
    assert "conseil.txt" in shown and "cantine est froide" in shown
    still = ecoute(migrated, "quarantine", "retry", str(entry["id"]), check=False)
    assert still.returncode == 1 and "still in quarantine" in still.stdout
    ecoute(migrated, "sources", "set", "cr", "--option", "encoding=")
    done = ecoute(migrated, "quarantine", "retry", "--source", "cr")
    assert "1 new" in done.stdout and "no longer in quarantine" in done.stdout
    assert json.loads(ecoute(migrated, "quarantine", "list", "--json").stdout) == []
    [source] = json.loads(ecoute(migrated, "sources", "list", "--json").stdout)
    assert (source["health"], source["items"]) == ("ok", 1)
    usage = ecoute(migrated, "quarantine", "retry", check=False)
    assert usage.returncode == 1 and "either an entry id or --source" in usage.stderr
    missing = ecoute(migrated, "quarantine", "dismiss", "999", check=False)
    assert missing.returncode == 1 and "no quarantine entry with id 999" in missing.stderr
    ecoute(migrated, "quarantine", "dismiss", str(entry["id"]))


def test_tune_encoder_is_for_the_shipped_encoder_only(tmp_path: Path) -> None:
    result = ecoute(tmp_path, "train", "--tune-encoder", "--from-corrections", check=False)
    assert result.returncode == 2
    assert "--tune-encoder trains the shipped encoder" in result.stderr
