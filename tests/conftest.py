"""Shared fixtures: databases built by the real migrations, a tiny model, local servers."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings
from ecoute.store.db import make_engine, make_session_factory, upgrade

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

pytest_plugins = [
    "tests.helpers.tiny_model", "tests.helpers.servers", "tests.helpers.recording_server",
    "tests.helpers.smtp_server",
]


def _test_data_folder() -> Path:
    value = os.environ.get("ECOUTE_TEST_DATA")
    return Path(value).expanduser() if value else ROOT.parent / "shared" / "data"


#: The development data sets (real feeds, pages, exports; see its README for their licences).
#: They are not part of the repository, so a fresh clone runs without them: the tests marked
#: ``needs_test_data`` are then skipped, except in CI, where a missing folder is an error.
TEST_DATA = _test_data_folder()
TEST_DATA_MISSING = (
    f"development data sets not found at {TEST_DATA}: set ECOUTE_TEST_DATA to their folder "
    "to run these tests"
)
needs_test_data = pytest.mark.needs_test_data

# Tests read their files from pytest's temporary folders, the repository and the data sets.
os.environ.setdefault("ECOUTE_FILE_ROOTS", os.pathsep.join(
    [tempfile.gettempdir(), str(ROOT), str(TEST_DATA)]))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip (or, in CI, refuse to run) the tests that read the absent development data sets."""
    if TEST_DATA.is_dir():
        return
    needing = [item for item in items if item.get_closest_marker("needs_test_data")]
    if needing and os.environ.get("CI"):
        raise pytest.UsageError(
            f"{TEST_DATA_MISSING} ({len(needing)} tests need them; CI runs them all)")
    for item in needing:
        # In front, so that this reason wins over pytest's "got empty parameter set" when a
        # test is parametrized over the (absent) folder's files.
        item.add_marker(pytest.mark.skip(reason=TEST_DATA_MISSING), append=False)


def postgres_url() -> str | None:
    url = os.environ.get("ECOUTE_TEST_POSTGRES_URL")
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_engine(tmp_path: Path) -> Engine:
    return make_engine(f"sqlite:///{tmp_path / 'ecoute-test.db'}")


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """An engine on a fresh PostgreSQL schema of its own, dropped after the test."""
    url = postgres_url()
    if not url:
        if os.environ.get("CI"):
            pytest.fail("ECOUTE_TEST_POSTGRES_URL must be set in CI: store tests run on both")
        pytest.skip("ECOUTE_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database: every store test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        eng = _sqlite_engine(tmp_path)
        upgrade(eng)
        yield eng
        eng.dispose()
    else:
        eng = request.getfixturevalue("pg_engine")
        upgrade(eng)
        yield eng


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database, for tests about something other than the store."""
    eng = _sqlite_engine(tmp_path)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    """Settings pointing at the test database, with loopback fetching allowed."""
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        cache_dir=tmp_path / "cache",
        http_allow_private=True,
        http_host_interval=0.0,  # local test servers need no politeness pause
        collect_batch_size=3,
    )
