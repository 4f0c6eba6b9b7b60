"""One dashboard database for the module's tests (built once: argon2 and the model take
seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.dashboard import Dashboard, build_dashboard


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path
              ) -> Iterator[Dashboard]:
    """Feedback of two departments, a quarantined export, users admin/officer/viewer of
    "demo" and an officer of another authority; see tests/helpers/dashboard.py."""
    built = build_dashboard(tmp_path_factory.mktemp("dashboard"), tiny_model_dir)
    yield built
    built.engine.dispose()
