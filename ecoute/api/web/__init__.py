"""The quality officers' dashboard: server-rendered pages in the API's own application.

Pages are Jinja2 templates filled from the assessment layer (``figures``); charts are SVG
drawn on the server, so every page reads without JavaScript, and the one script only makes
chart points clickable. Nothing is loaded from another site.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ecoute.api.web import alerts, followups, overview, signin, sources, trends, verbatims
from ecoute.api.web.rendering import (
    STATIC,
    STATIC_URL,
    EmptyFiltersDropped,
    SecurityHeaders,
    install_error_pages,
)


def install_dashboard(app: FastAPI) -> None:
    """Serve the dashboard's pages, its static files and its headers from ``app``."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="static")
    for module in (overview, alerts, trends, verbatims, followups, sources, signin):
        app.include_router(module.router)
    install_error_pages(app)
    app.add_middleware(EmptyFiltersDropped)
    app.add_middleware(SecurityHeaders)
