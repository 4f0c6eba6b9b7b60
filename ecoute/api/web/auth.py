"""Who is looking at the dashboard, and what they may do.

A person signs in with a username and password or with an API key and gets a session cookie
(HttpOnly, SameSite=Lax, Secure unless ``env = dev``). Roles and the authority scope are the
API's: a viewer reads, an officer also corrects and handles quarantine, an admin also changes
sources; a person scoped to an authority never sees another one. Where the API lets anonymous
requests read (``env = dev`` by default), the dashboard does too, as a viewer.

Every form that changes something carries the session's CSRF token, and a request whose
``Origin`` is another site is refused whatever it carries. Failed sign-ins are slowed, then
refused for a while (``ecoute.store.signin_attempts``).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from ecoute.api.deps import anonymous_read_allowed
from ecoute.config.settings import Settings
from ecoute.errors import Forbidden, Unauthorized
from ecoute.store.api_keys import authenticate
from ecoute.store.authorities import get_authority
from ecoute.store.db import session_scope
from ecoute.store.models import Authority, Role
from ecoute.store.signin_attempts import (
    SigninLimits,
    check_signin,
    signin_failed,
    signin_succeeded,
    subjects_of,
)
from ecoute.store.users import authenticate_password
from ecoute.store.web_sessions import close_session, find_session, open_session

SESSION_COOKIE = "ecoute_session"
#: Before sign-in there is no session to hold a CSRF token: the sign-in form's token is
#: checked against this cookie instead (double submit).
SIGNIN_COOKIE = "ecoute_signin"
SIGN_IN_HINT = "sign in again, with your username and password or an API key"
OTHER_SITE = "this form was sent from another site"
SIGNIN_EXPIRED = "the sign-in form has expired"
INGEST_KEY = "an ingest key only sends feedback and cannot read the dashboard"
UNKNOWN_KEY = "this API key is unknown or revoked"
WRONG_PASSWORD = "wrong username or password"
#: The sign-in refusals by their (English) message, and the words the sign-in page says them
#: with in its language (``<key>`` and ``<key>_hint`` in signin_messages.py).
SIGNIN_REFUSALS = {OTHER_SITE: "signin.other_site", SIGNIN_EXPIRED: "signin.expired",
                   INGEST_KEY: "signin.ingest_key", UNKNOWN_KEY: "signin.unknown_key",
                   WRONG_PASSWORD: "signin.wrong_password"}


@dataclass(frozen=True)
class Viewer:
    """The person behind a request: signed in, or anonymous where reading is open."""

    name: str | None
    role: str
    authority_id: int | None
    csrf_token: str | None

    @property
    def signed_in(self) -> bool:
        return self.name is not None

    @property
    def can_correct(self) -> bool:
        return self.signed_in and self.role in (Role.OFFICER, Role.ADMIN)

    @property
    def can_administer(self) -> bool:
        return self.signed_in and self.role == Role.ADMIN


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def current_viewer(request: Request) -> Viewer | None:
    """The signed-in person, the anonymous reader where reading is open, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with session_scope(request.app.state.session_factory) as session:
            found = find_session(session, token)
        if found is not None:
            return Viewer(found.name, found.role, found.authority_id, found.csrf_token)
    if anonymous_read_allowed(_settings(request)):
        return Viewer(None, Role.VIEWER, None, None)
    return None


def _reader(request: Request) -> Viewer:
    viewer = current_viewer(request)
    if viewer is None:
        raise Unauthorized("sign in to see the dashboard", hint=SIGN_IN_HINT)
    return viewer


def _same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null":
        parts = urlsplit(origin)
        if (parts.scheme, parts.netloc) != (request.url.scheme, request.url.netloc):
            raise Forbidden(OTHER_SITE,
                            hint="open the dashboard itself and send the form from there")


async def _checked_form(request: Request, viewer: Viewer) -> None:
    """Refuse a form without the session's CSRF token."""
    _same_origin(request)
    if viewer.csrf_token is None:
        raise Unauthorized("sign in to change anything", hint=SIGN_IN_HINT)
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, viewer.csrf_token):
        raise Forbidden("this form has expired or did not come from this dashboard",
                        hint="reload the page and send it again")


def _signed_in(viewer: Viewer) -> None:
    if not viewer.signed_in:
        raise Unauthorized("sign in to change anything", hint=SIGN_IN_HINT)


async def _corrector(request: Request, viewer: Annotated[Viewer, Depends(_reader)]) -> Viewer:
    _signed_in(viewer)
    if not viewer.can_correct:
        raise Forbidden("only quality officers and administrators can do this",
                        hint="sign in with an officer account or ask an administrator")
    await _checked_form(request, viewer)
    return viewer


async def _administrator(request: Request, viewer: Annotated[Viewer, Depends(_reader)]
                         ) -> Viewer:
    _signed_in(viewer)
    if not viewer.can_administer:
        raise Forbidden("only administrators can change sources",
                        hint="sign in with an admin account")
    await _checked_form(request, viewer)
    return viewer


async def _member(request: Request, viewer: Annotated[Viewer, Depends(_reader)]) -> Viewer:
    await _checked_form(request, viewer)
    return viewer


ReaderDep = Annotated[Viewer, Depends(_reader)]
#: Form posts: the role is checked, and the CSRF token.
CorrectorForm = Annotated[Viewer, Depends(_corrector)]
AdministratorForm = Annotated[Viewer, Depends(_administrator)]
MemberForm = Annotated[Viewer, Depends(_member)]


def viewer_authority(session: Session, settings: Settings, viewer: Viewer,
                     slug: str | None) -> Authority:
    """The authority a page is about: the viewer's own, or any for an unscoped one."""
    if viewer.authority_id is None:
        return get_authority(session, slug or settings.default_authority)
    own = session.get(Authority, viewer.authority_id)
    if own is None:
        raise Unauthorized("the authority of this account no longer exists", hint=SIGN_IN_HINT)
    if slug and slug != own.slug:
        raise Forbidden(f"this account belongs to authority {own.slug!r}, not {slug!r}")
    return own


def sign_in(session: Session, settings: Settings, *, username: str = "", password: str = "",
            api_key: str = "", address: str, now: datetime) -> str:
    """A new session's token for a username and password, or an API key of a reading role;
    Unauthorized (the same answer whatever was wrong, the failure counted), or
    TooManyAttempts while the username or the address must wait (nothing checked then)."""
    lifetime = timedelta(hours=settings.web_session_hours)
    limits = SigninLimits.of(settings)
    by_key = bool(api_key.strip())
    check = check_signin(session, limits, subjects_of(
        limits, username=None if by_key else username, address=address), now)
    if by_key:
        key = authenticate(session, api_key.strip())
        if key is not None and key.role == Role.INGEST:
            raise Forbidden(INGEST_KEY,
                            hint="use a viewer, officer or admin key, or a username")
        if key is not None:
            signin_succeeded(session, check)
            return open_session(session, lifetime=lifetime, api_key=key)
        signin_failed(session, check, limits)
        raise Unauthorized(UNKNOWN_KEY,
                           hint="check it, or ask an administrator for a new one")
    user = authenticate_password(session, username, password)
    if user is None:
        signin_failed(session, check, limits)
        raise Unauthorized(WRONG_PASSWORD,
                           hint="check both; an administrator can set a new password with "
                           "`ecoute users password`")
    signin_succeeded(session, check)
    return open_session(session, lifetime=lifetime, user=user)


def sign_out(session: Session, request: Request) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        close_session(session, token)


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=int(settings.web_session_hours * 3600),
                        httponly=True, samesite="lax", secure=settings.env != "dev", path="/")


def signin_token(request: Request) -> str:
    """The sign-in form's token: the browser's own, or a new one."""
    return request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(32)


def check_signin_token(request: Request, sent: str) -> None:
    _same_origin(request)
    held = request.cookies.get(SIGNIN_COOKIE) or ""
    if not held or not hmac.compare_digest(held, sent):
        raise Forbidden(SIGNIN_EXPIRED, hint="reload the page and sign in again")
