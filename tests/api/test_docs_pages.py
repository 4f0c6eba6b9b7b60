"""The API documentation pages work on a server without internet access."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from ecoute.api.app import create_app
from ecoute.config.settings import Settings

#: Where a page names another resource: attributes (ReDoc's ``spec-url`` too) and the Swagger
#: UI's own ``url:`` option.
REFERENCE = re.compile(
    r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|\burl\s*:\s*["']([^"']+)["']""")


@pytest.fixture
def client(sqlite_engine: Engine) -> TestClient:
    settings = Settings(database_url=sqlite_engine.url.render_as_string(hide_password=False))
    return TestClient(create_app(settings, sqlite_engine))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_documentation_page_loads_only_local_assets(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    html = response.text
    # No scheme nor protocol-relative host anywhere: a CDN, a font or a validator badge would
    # leave the page blank or broken offline.
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE), html
    references = [a or b for a, b in REFERENCE.findall(html)]
    assert any(r.endswith(".js") for r in references), references
    assert "/openapi.json" in references
    for reference in references:
        assert reference.startswith("/"), reference
        asset = client.get(reference)
        assert asset.status_code == 200, reference
        assert asset.content, reference


def test_swagger_ui_oauth_redirect_is_served(client: TestClient) -> None:
    assert client.get("/docs/oauth2-redirect").status_code == 200
