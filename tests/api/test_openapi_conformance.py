"""Every endpoint of the OpenAPI document driven by schemathesis, in-process, with an admin key:
whatever a client sends within (and around) the declared schema, the API answers with a
status, content type and body it declares, and never with a server error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine

from ecoute.api.app import create_app
from ecoute.collectors.service import add_source
from ecoute.config.settings import Settings
from ecoute.store.api_keys import create_key
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import make_session_factory, session_scope

#: Examples per endpoint and generation mode: enough to reach every parameter's edge cases
#: (schemathesis starts from them), small enough for CI.
EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def api(sqlite_engine: Engine, tmp_path: Path) -> tuple[Any, dict[str, str], int]:
    """The app on a migrated database holding one authority with items and a file source;
    its admin key's headers; the file source's id."""
    settings = Settings(database_url=sqlite_engine.url.render_as_string(hide_password=False),
                        data_dir=tmp_path / "data", cache_dir=tmp_path / "cache",
                        collect_max_seconds=20)
    factory = make_session_factory(sqlite_engine)
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        token = create_key(session, role="admin", authority=valmont)[1]
        source_id = add_source(session, authority="valmont", name="registre",
                               kind="complaint_log", options={"path": str(tmp_path / "in")}).id
    headers = {"Authorization": f"Bearer {token}"}
    app = create_app(settings, sqlite_engine)
    pushed = TestClient(app).post("/api/v1/ingest", headers=headers, json=[
        {"external_id": f"r{n}", "text": text, "published_at": "2026-03-0{n}T10:00:00+01:00"}
        for n, text in enumerate(["Accueil très aimable", "Attente beaucoup trop longue",
                                  "Dossier traité rapidement"], start=1)])
    assert pushed.status_code == 200, pushed.text
    return app, headers, source_id


@pytest.mark.slow
def test_every_endpoint_answers_as_its_schema_declares(
    api: tuple[Any, dict[str, str], int]
) -> None:
    app, headers, source_id = api
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert {"POST /api/v1/ingest", "POST /api/v1/sources/{source_id}/upload",
            "PUT /api/v1/items/{item_id}/determinants/{determinant}"} <= labels, labels

    # The paths that need existing rows, once each with ids that exist.
    upload = schema.make_case(
        operation=schema["/api/v1/sources/{source_id}/upload"]["POST"],
        path_parameters={"source_id": source_id}, media_type="multipart/form-data",
        body={"file": "id;texte\nu1;Guichet fermé sans préavis\n".encode()})
    assert upload.call_and_validate(headers=dict(headers), checks=CHECKS).status_code == 200
    correction = schema.make_case(
        operation=schema["/api/v1/items/{item_id}/determinants/{determinant}"]["PUT"],
        path_parameters={"item_id": 1, "determinant": "courtesy"},
        body={"polarity": "positive"}, media_type="application/json")
    assert correction.call_and_validate(headers=dict(headers), checks=CHECKS).status_code == 200

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None,
                                 derandomize=True, suppress_health_check=list(HealthCheck))
            def call(case: Any) -> None:
                case.call_and_validate(headers=dict(headers), checks=CHECKS)

            try:
                call()
            except Unsatisfiable:
                # Nothing to get wrong: no parameter and no body (GET /health).
                assert mode is GenerationMode.NEGATIVE and not list(operation.iter_parameters())
