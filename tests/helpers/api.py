"""The API over HTTP in tests: a client on the test's store and the keys of each role.

The fixtures ``keys`` and ``client`` of ``tests/api/conftest.py`` are built from these.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ecoute.api.app import create_app
from ecoute.config.settings import Settings
from ecoute.store.api_keys import create_key, revoke_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope


def role_keys(factory: sessionmaker[Session]) -> dict[str, str]:
    """Tokens: per role for authority `valmont`, one ingest key for `autreville`, a global
    admin, and a revoked viewer."""
    tokens: dict[str, str] = {}
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        other = ensure_authority(session, "autreville")
        for role in ("admin", "officer", "viewer", "ingest"):
            tokens[role] = create_key(session, role=role, authority=valmont)[1]
        tokens["other_ingest"] = create_key(session, role="ingest", authority=other)[1]
        tokens["global_admin"] = create_key(session, role="admin", authority=None)[1]
        revoked, tokens["revoked"] = create_key(session, role="viewer", authority=valmont)
        revoke_key(session, revoked.prefix)
    return tokens


def api_client(engine: Engine, settings: Settings, tmp_path: Path, *,
               raise_server_exceptions: bool = True, **update: object) -> TestClient:
    """``update``: settings changed for this client."""
    return TestClient(create_app(
        settings.model_copy(update={"data_dir": tmp_path / "data", **update}), engine),
        raise_server_exceptions=raise_server_exceptions)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def admin_headers(factory: sessionmaker[Session]) -> dict[str, str]:
    """Headers of a new admin key of authority `valmont`."""
    with session_scope(factory) as session:
        token = create_key(session, role="admin", authority=ensure_authority(session, "valmont"))[1]
    return auth(token)
