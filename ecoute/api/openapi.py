"""The OpenAPI document, completed with what FastAPI cannot see from the signatures.

``POST /ingest`` reads its body as a stream (to bound it and to accept NDJSON), so the record
schema it declares is added to the components here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ecoute.collectors.kinds.push import PushRecord


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            record = PushRecord.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(record.pop("$defs", {}))
            components["PushRecord"] = record
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
