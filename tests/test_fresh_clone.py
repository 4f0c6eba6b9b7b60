"""A clone without the development data sets: contract tests still run, the others say why not.

The contract tests run in a child process whose ``ECOUTE_TEST_DATA`` names a folder that does
not exist, as on a user's machine; the skip-or-fail rule is checked on the collection hook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import conftest
from tests.conftest import ROOT


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "ECOUTE_TEST_POSTGRES_URL")}
    env["ECOUTE_TEST_DATA"] = str(tmp_path / "no-data-here")
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_every_collector_contract_runs_on_the_repository_files(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "tests/collectors/test_contract.py", "-k", "sqlite")
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout


class _Item:
    """What the collection hook reads of a collected test: its marks."""

    def __init__(self, *marks: str) -> None:
        self.marks = [getattr(pytest.mark, name) for name in marks]

    def get_closest_marker(self, name: str) -> object:
        return next((m for m in self.marks if m.name == name), None)

    def add_marker(self, mark: pytest.MarkDecorator, append: bool = True) -> None:
        self.marks.insert(len(self.marks) if append else 0, mark)


def _collect(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, items: list[_Item]) -> None:
    monkeypatch.setattr(conftest, "TEST_DATA", tmp_path / "no-data-here")
    conftest.pytest_collection_modifyitems(None, items)  # type: ignore[arg-type]


def test_tests_needing_the_data_sets_skip_with_one_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CI", raising=False)
    needing, other = _Item("needs_test_data", "parametrize"), _Item("parametrize")
    _collect(monkeypatch, tmp_path, [needing, other])
    # First, so that it wins over pytest's own "got empty parameter set" skip.
    assert needing.marks[0].name == "skip"
    assert needing.marks[0].kwargs["reason"] == conftest.TEST_DATA_MISSING
    assert "ECOUTE_TEST_DATA" in conftest.TEST_DATA_MISSING
    assert [m.name for m in other.marks] == ["parametrize"]


def test_in_ci_missing_data_sets_fail_instead_of_skipping(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.UsageError, match="ECOUTE_TEST_DATA"):
        _collect(monkeypatch, tmp_path, [_Item("needs_test_data"), _Item()])
    _collect(monkeypatch, tmp_path, [_Item()])  # nothing needs them: nothing to refuse


def test_present_data_sets_change_nothing(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(conftest, "TEST_DATA", tmp_path)
    item = _Item("needs_test_data")
    conftest.pytest_collection_modifyitems(None, [item])  # type: ignore[arg-type]
    assert [m.name for m in item.marks] == ["needs_test_data"]
