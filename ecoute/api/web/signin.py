"""Signing in and out, and choosing the dashboard's language."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ecoute.api.deps import SettingsDep, WriterSessionDep, client_address
from ecoute.api.web.auth import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    SIGNIN_REFUSALS,
    MemberForm,
    check_signin_token,
    current_viewer,
    set_session_cookie,
    sign_in,
    sign_out,
    signin_token,
)
from ecoute.api.web.i18n import LANGUAGE_COOKIE, LANGUAGES, Translator, negotiate
from ecoute.api.web.rendering import local_path, page
from ecoute.config.settings import Settings
from ecoute.errors import AuthorityNotFound, Forbidden, TooManyAttempts, Unauthorized
from ecoute.store.authorities import get_authority

router = APIRouter(include_in_schema=False)
NextQuery = Annotated[str, Query(max_length=2000)]


def _signin_page(request: Request, settings: SettingsDep, next_path: str, *,
                 error: str | None = None, hint: str | None = None,
                 status_code: int = 200) -> HTMLResponse:
    token = signin_token(request)
    response = page(request, "signin.html", viewer=current_viewer(request),
                    next_path=local_path(next_path), signin_token=token, error=error, hint=hint,
                    status_code=status_code)
    response.set_cookie(SIGNIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=settings.env != "dev", path="/signin")
    return response


def _refused_page(request: Request, settings: Settings, next_path: str,
                  exc: Unauthorized | Forbidden) -> HTMLResponse:
    """The sign-in page saying why it refused, in the page's language when the refusal is one
    of the sign-in's own."""
    key = SIGNIN_REFUSALS.get(exc.message)
    t = Translator(negotiate(request))
    error, hint = (t(key), t(f"{key}_hint")) if key else (exc.message, exc.hint)
    return _signin_page(request, settings, next_path, error=error, hint=hint,
                        status_code=exc.http_status)


def _locked_page(request: Request, session: Session, settings: Settings, next_path: str,
                 retry_at: datetime, now: datetime) -> HTMLResponse:
    """The sign-in page saying, in the page's language, when to try again."""
    seconds = max(1, math.ceil((retry_at - now).total_seconds()))
    try:
        zone = ZoneInfo(get_authority(session, settings.default_authority).timezone)
    except AuthorityNotFound:
        zone = ZoneInfo("UTC")
    local = retry_at.astimezone(zone)
    t = Translator(negotiate(request))
    wait = t("signin.wait_seconds", n=seconds) if seconds < 120 else \
        t("signin.wait_minutes", n=math.ceil(seconds / 60))
    response = _signin_page(
        request, settings, next_path, error=t("signin.locked"),
        hint=t("signin.retry", wait=wait, time=f"{local:%H:%M:%S} {local.tzname()}"),
        status_code=429)
    response.headers["retry-after"] = str(seconds)
    return response


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, settings: SettingsDep, next: NextQuery = "/"
                ) -> HTMLResponse:
    return _signin_page(request, settings, next)


@router.post("/signin", response_model=None)
def signin(
    request: Request, session: WriterSessionDep, settings: SettingsDep,
    signin_token: Annotated[str, Form(max_length=100)],
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    api_key: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    now: datetime = request.app.state.clock()
    try:
        check_signin_token(request, signin_token)
        token = sign_in(session, settings, username=username, password=password,
                        api_key=api_key, address=client_address(request), now=now)
    except TooManyAttempts as exc:
        session.rollback()
        return _locked_page(request, session, settings, next, exc.retry_at, now)
    except Unauthorized as exc:
        # Not rolled back: the failure just counted is committed with the request.
        return _refused_page(request, settings, next, exc)
    except Forbidden as exc:
        session.rollback()
        return _refused_page(request, settings, next, exc)
    response = RedirectResponse(local_path(next), status_code=303)
    set_session_cookie(response, settings, token)
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


@router.post("/signout")
def signout(request: Request, session: WriterSessionDep, _viewer: MemberForm
            ) -> RedirectResponse:
    sign_out(session, request)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language/{language}")
def choose_language(language: Annotated[str, Path(pattern="^(fr|en)$")],
                    next: NextQuery = "/") -> RedirectResponse:
    response = RedirectResponse(local_path(next), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600,
                            samesite="lax", path="/")
    return response
