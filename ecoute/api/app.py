"""The FastAPI application factory."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

import fastapi_offline
from fastapi import Depends, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from ecoute import __version__
from ecoute.api.body_limits import BodySizeLimit
from ecoute.api.deps import ReadAccess, open_read_warning
from ecoute.api.errors import install_error_handlers
from ecoute.api.query_check import reject_unknown_query
from ecoute.api.prometheus import metrics_registry
from ecoute.api.prometheus import router as metrics_router
from ecoute.api.openapi import install_openapi
from ecoute.api.web import install_dashboard
from ecoute.api.routers import (
    alerts,
    backup_links,
    backup_teams,
    departments,
    digests,
    exports,
    followups,
    health,
    ingest,
    items,
    phone,
    privacy,
    quarantine,
    ratings,
    responsiveness,
    routing,
    satisfaction,
    sites,
    sources,
    unsubscribe,
)
from ecoute.config.settings import Settings, get_settings
from ecoute.store.db import make_session_factory, make_writer_factory, open_store
from ecoute.store.models import utcnow

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """An app bound to one database; nothing happens at import time."""
    settings = settings or get_settings()
    engine = engine or open_store(settings, check=False)
    app = FastAPI(
        title="ecoute",
        version=__version__,
        description="Continuous listening to the users of a public service.",
        # Served below under the read rule: in prod the schema is not for anonymous callers.
        docs_url=None, redoc_url=None, openapi_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    # Requests that write (ingest, uploads, corrections) run next to each other and next to
    # the scheduler: on SQLite they take the write lock when they begin and wait for it up to
    # the busy timeout, instead of failing at once on a snapshot another writer made stale.
    app.state.writer_factory = make_writer_factory(engine)
    # What counts failed sign-ins reads the time here, so that tests can move it.
    app.state.clock = utcnow
    install_error_handlers(app)
    app.state.metrics_registry = metrics_registry(app.state.session_factory)
    app.include_router(metrics_router)
    for router in (health.router, satisfaction.router, ratings.router, responsiveness.router,
                   alerts.router, items.router, sources.router, quarantine.router,
                   ingest.router, privacy.router, digests.router, routing.router,
                   followups.router, departments.router, sites.router, exports.router,
                   phone.router, backup_teams.router):
        app.include_router(router, prefix="/api/v1",
                           dependencies=[Depends(reject_unknown_query)])
    app.include_router(unsubscribe.router)
    app.include_router(backup_links.router)
    app.add_middleware(BodySizeLimit, settings=settings)
    install_openapi(app)
    _add_docs(app)
    install_dashboard(app)
    warning = open_read_warning(settings)
    if warning:
        log.warning(warning)
    _freeze_loaded_objects()
    return app


_frozen = False


def _freeze_loaded_objects() -> None:
    """Take what is loaded once the app is built (modules, models, routes, validators: about
    260,000 objects that live as long as the process) out of the garbage collector's full
    collections. The objects of each pushed batch that survive a young collection make it run
    a full one every few batches, and walking those objects again was about 15 % of the CPU
    time of ``/ingest`` (docs/benchmarks.md). Once per process: an object frozen that later
    becomes cyclic garbage is never freed, so nothing built per request is frozen."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()


#: Swagger UI and ReDoc as shipped by the fastapi-offline package: an authority's server often
#: has no internet access, so the documentation pages never load anything from a CDN.
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
DOCS_ASSETS_URL = "/docs-assets"


def _add_docs(app: FastAPI) -> None:
    """``/openapi.json``, ``/docs`` and ``/redoc`` answer whoever may read the API (anyone in
    dev; a viewer, officer or admin key in prod, or where anonymous reading is off)."""
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_key: ReadAccess) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(_key: ReadAccess) -> HTMLResponse:
        # The validator badge would call validator.swagger.io: off.
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="ecoute API",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def docs_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc(_key: ReadAccess) -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json", title="ecoute API",
            redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png", with_google_fonts=False,
        )
