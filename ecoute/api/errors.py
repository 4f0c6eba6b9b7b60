"""One place that turns ecoute errors into JSON answers."""

from __future__ import annotations

import math
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ecoute.errors import EcouteError, StoreError, TooManyAttempts, Unauthorized

#: Seconds a client is told to wait before retrying when the database is busy or unreachable.
RETRY_AFTER_SECONDS = 5


def error_body(name: str, detail: str, hint: str | None = None) -> dict[str, str]:
    body = {"error": name, "detail": detail}
    if hint:
        body["hint"] = hint
    return body


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EcouteError)
    async def _ecoute_error(request: Request, exc: EcouteError) -> JSONResponse:
        # RFC 9110: a 401 names the scheme that would be accepted (the key as a bearer token).
        headers = {"WWW-Authenticate": 'Bearer realm="ecoute"'} if isinstance(
            exc, Unauthorized) else None
        if isinstance(exc, StoreError):
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if isinstance(exc, TooManyAttempts):
            wait = (exc.retry_at - request.app.state.clock()).total_seconds()
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
        return JSONResponse(error_body(exc.name, exc.message, exc.hint),
                            status_code=exc.http_status, headers=headers)

    @app.exception_handler(OperationalError)
    async def _database_unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        # Busy (SQLite's lock held past the busy timeout) or unreachable: nothing the client
        # sent is wrong, the same request succeeds later. The SQL text stays in the logs.
        return JSONResponse(
            error_body("StoreError", "the database is busy or unreachable",
                       "retry in a few seconds"),
            status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Raised by the framework itself (a body it cannot parse, an unknown route): the same
        # shape as ours, so that clients read one error format.
        name = {400: "InvalidRequest", 413: "PayloadTooLarge"}.get(
            exc.status_code, HTTPStatus(exc.status_code).phrase.title().replace(" ", ""))
        return JSONResponse(error_body(name, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse(error_body("InvalidRequest", problems), status_code=422)
