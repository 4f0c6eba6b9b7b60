"""Turning a page's data into HTML: the templates, the words of the page's language, the
security headers, and errors shown as pages rather than JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecoute.api.web import charts
from ecoute.api.web.auth import Viewer
from ecoute.api.web.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, negotiate
from ecoute.domain import DETERMINANTS, Channel
from ecoute.errors import EcouteError, Unauthorized
from ecoute.store.models import Authority

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
STATIC = HERE / "static"
STATIC_URL = "/static"

#: The dashboard's own addresses; everything else (the API, its documentation) keeps JSON
#: errors and its own headers.
PAGES = ("/", "/trends", "/verbatims", "/sources", "/departments", "/signin", "/signout",
         "/language", "/alerts")

#: No inline script or style anywhere: the pages' one script and stylesheet are files.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
PAGE_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def is_page(path: str) -> bool:
    return path == "/" or any(path == p or path.startswith(p + "/") for p in PAGES[1:]) \
        or path.startswith(STATIC_URL + "/")


def link(path: str, params: Mapping[str, Any] | None = None, **changes: Any) -> str:
    """``path`` with ``params`` updated by ``changes``; empty values are left out."""
    merged = {**(params or {}), **changes}
    query = urlencode([(k, v) for k, v in merged.items() if v not in (None, "")])
    return f"{path}?{query}" if query else path


def local_path(value: str | None, default: str = "/") -> str:
    """A path of this site to go back to; anything else (another site, a scheme) is
    replaced by ``default`` so that no link of ours sends people elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def page(request: Request, template: str, *, viewer: Viewer | None,
         authority: Authority | None = None, status_code: int = 200,
         **context: Any) -> HTMLResponse:
    """The page ``template`` in the request's language."""
    language = negotiate(request, authority.locale if authority else None)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    translator = Translator(language)
    return TEMPLATES.TemplateResponse(request, template, {
        "t": translator,
        "channel_options": [(c.value, translator.channel(c.value)) for c in Channel],
        "determinant_options": [(d, translator.determinant(d)) for d in DETERMINANTS], "lang": language, "languages": LANGUAGES,
        "language_names": LANGUAGE_NAMES, "viewer": viewer, "authority": authority,
        "here": here, "here_quoted": quote(here, safe=""), "link": link,
        "determinants": DETERMINANTS, "channels": [c.value for c in Channel],
        "static": STATIC_URL, "charts": charts, **context,
    }, status_code=status_code, headers={"cache-control": "no-store"})


class SecurityHeaders:
    """Adds the page headers (content security policy, no framing, no sniffing) to the
    dashboard's answers; ``nosniff`` to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        dashboard = is_page(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode().lower() not in PAGE_HEADERS]
                chosen = PAGE_HEADERS if dashboard else {"x-content-type-options": "nosniff"}
                headers += [(k.encode(), v.encode()) for k, v in chosen.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class EmptyFiltersDropped:
    """A filter form sends every field, the ones left on "All" empty (``site_id=``): on the
    dashboard's pages an empty query value means no filter, as if it were not there."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "GET" \
                and is_page(scope.get("path", "")) and scope.get("query_string"):
            kept = [pair for pair in scope["query_string"].split(b"&")
                    if pair and not pair.endswith(b"=")]
            scope = {**scope, "query_string": b"&".join(kept)}
        await self.app(scope, receive, send)


Handler = Callable[[Request, Exception], Awaitable[Response]]
AnyHandler = Callable[..., Any]


def install_error_pages(app: FastAPI) -> None:
    """On dashboard addresses, errors become pages (a sign-in redirect for Unauthorized on
    a page read); elsewhere the API's JSON handlers answer as before."""
    from ecoute.api.web.auth import current_viewer

    def wrap(previous: AnyHandler) -> Handler:
        async def handler(request: Request, exc: Exception) -> Response:
            if not is_page(request.url.path) or request.url.path.startswith(STATIC_URL):
                return await previous(request, exc)  # type: ignore[no-any-return]
            if isinstance(exc, Unauthorized) and request.method == "GET" \
                    and request.url.path != "/signin":
                here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(link("/signin", next=here), status_code=303)
            if isinstance(exc, EcouteError):
                status, message, hint = exc.http_status, exc.message, exc.hint
            elif isinstance(exc, StarletteHTTPException):
                status, message, hint = exc.status_code, str(exc.detail), None
            else:
                return await previous(request, exc)  # type: ignore[no-any-return]
            try:
                viewer = current_viewer(request)
            except EcouteError:
                viewer = None
            return page(request, "error.html", viewer=viewer, status_code=status,
                        message=message, hint=hint, status=status)

        return handler

    for exc_class in (EcouteError, StarletteHTTPException):
        previous = app.exception_handlers[exc_class]
        app.add_exception_handler(exc_class, wrap(previous))
