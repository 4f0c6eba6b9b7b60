"""Signing in and out, and choosing the dashboard's language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ecoute.api.deps import SettingsDep, WriterSessionDep
from ecoute.api.web.auth import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    MemberForm,
    check_signin_token,
    current_viewer,
    set_session_cookie,
    sign_in,
    sign_out,
    signin_token,
)
from ecoute.api.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from ecoute.api.web.rendering import local_path, page
from ecoute.errors import Forbidden, Unauthorized

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
    check_signin_token(request, signin_token)
    try:
        token = sign_in(session, settings, username=username, password=password,
                        api_key=api_key)
    except (Unauthorized, Forbidden) as exc:
        session.rollback()
        return _signin_page(request, settings, next, error=exc.message, hint=exc.hint,
                            status_code=exc.http_status)
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
