"""Fixtures of the API tests: the keys of each role and a client on the test's store."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings
from tests.helpers.api import api_client, role_keys


@pytest.fixture
def keys(factory: sessionmaker[Session]) -> dict[str, str]:
    return role_keys(factory)


@pytest.fixture
def client(engine: Engine, settings: Settings, tmp_path: Path) -> TestClient:
    return api_client(engine, settings, tmp_path)
