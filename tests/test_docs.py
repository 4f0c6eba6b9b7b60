"""Documentation that cannot drift: settings, collector options and CLI commands."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from ecoute.cli import app
from ecoute.collectors.registry import collectors
from ecoute.config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "regenerate with `ecoute settings --markdown` / `ecoute collectors --markdown`"


def test_every_setting_is_in_the_configuration_table() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(ECOUTE_[A-Z0-9_]+)` \|", doc, flags=re.M))
    expected = {f"ECOUTE_{name.upper()}" for name in Settings.model_fields}
    assert not expected - rows, f"undocumented settings {sorted(expected - rows)}: {REGENERATE}"
    assert not rows - expected, f"documented settings that no longer exist: {sorted(rows - expected)}"
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_every_collector_option_is_documented() -> None:
    doc = (ROOT / "docs" / "collectors.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## `([a-z0-9_]+)`\n(.*?)(?=^## |\Z)", doc, flags=re.M | re.S))
    for kind, cls in collectors().items():
        assert kind in sections, f"collector {kind} missing from docs/collectors.md: {REGENERATE}"
        for name, field in cls.Options.model_fields.items():
            assert field.description, f"{kind}: option {name} has no description"
            assert f"| `{name}` |" in sections[kind], f"{kind}.{name} undocumented: {REGENERATE}"


def _command_paths(group: object, prefix: str = "") -> list[str]:
    paths = []
    for name, command in getattr(group, "commands", {}).items():
        path = f"{prefix}{name}"
        if getattr(command, "commands", None):
            paths.extend(_command_paths(command, path + " "))
        else:
            paths.append(path)
    return paths


def test_every_cli_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = _command_paths(typer.main.get_command(app))
    assert "demo" in commands and "db upgrade" in commands
    missing = [c for c in commands if f"ecoute {c}" not in readme]
    assert not missing, f"CLI commands missing from README.md's reference: {missing}"


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", setup)


def test_readme_has_two_one_line_setup_commands_and_ci_runs_the_second() -> None:
    install_and_demo, run_tests = _readme_commands()
    assert install_and_demo.index("pip install torch==2.13.0") < install_and_demo.index(
        "pip install .")
    assert install_and_demo.endswith("ecoute demo")
    assert "pip install torch==2.13.0" in run_tests and run_tests.endswith("pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert run_tests in ci.splitlines()
