"""Request-scoped dependencies: the session (committed at the request boundary), settings,
the API key of the request and the authority it is about.

Keys come as ``Authorization: Bearer ek_...`` or ``X-API-Key: ek_...``. A key scoped to an
authority never reads another one's data; a key without authority is an installation admin.
Without a key, read endpoints answer only where ``api_anonymous_read`` allows it (by default in
``env = dev``); writing always needs a key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from ecoute.config.settings import Settings
from ecoute.errors import Forbidden, Unauthorized
from ecoute.store.api_keys import authenticate
from ecoute.store.authorities import get_authority
from ecoute.store.db import session_scope
from ecoute.store.models import ApiKey, Authority, Role
from ecoute.store.signin_attempts import (
    SigninLimits,
    check_signin,
    signin_failed,
    signin_succeeded,
    subjects_of,
)

READ_ROLES = frozenset({Role.ADMIN, Role.OFFICER, Role.VIEWER})
KEY_HINT = "send `Authorization: Bearer ek_...` or `X-API-Key: ek_...`; " \
    "an administrator creates keys with `ecoute keys create`"


def _session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.session_factory) as session:
        yield session


def _writer_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.writer_factory) as session:
        yield session


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(_session)]
#: For endpoints that write: takes SQLite's write lock at the start (see ``make_writer_factory``).
WriterSessionDep = Annotated[Session, Depends(_writer_session)]
SettingsDep = Annotated[Settings, Depends(_settings)]


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return request.headers.get("x-api-key") or None


def client_address(request: Request) -> str:
    """The address failed sign-ins are counted against: the client's (behind a reverse
    proxy, the one it forwards, as uvicorn's proxy headers give it; docs/security.md)."""
    return request.client.host if request.client else "unknown"


def _current_key(request: Request) -> ApiKey | None:
    token = _token(request)
    if token is None:
        return None
    limits = SigninLimits.of(_settings(request))
    # A unit of work of its own: recording the key's last use must not hold a write lock
    # for the rest of the request (collection runs write from other sessions). A writer
    # session: a read-then-write transaction on SQLite fails at once, without the busy
    # timeout, when another writer committed in between.
    with session_scope(request.app.state.writer_factory) as session:
        # An address that sent too many unknown keys is refused before its key is looked at.
        check = check_signin(session, limits,
                             subjects_of(limits, username=None, address=client_address(request)),
                             request.app.state.clock())
        key = authenticate(session, token)
        if key is None:
            signin_failed(session, check, limits)
        else:
            signin_succeeded(session, check)
    if key is None:
        raise Unauthorized("unknown or revoked API key", hint=KEY_HINT)
    return key


CurrentKey = Annotated[ApiKey | None, Depends(_current_key)]


def anonymous_read_allowed(settings: Settings) -> bool:
    if settings.api_anonymous_read is not None:
        return settings.api_anonymous_read
    return settings.env == "dev"


def open_read_warning(settings: Settings, host: str | None = None) -> str | None:
    """What to tell whoever starts the API when anonymous requests may read everything."""
    if not anonymous_read_allowed(settings):
        return None
    message = ("the API answers requests without a key: anyone who can reach it reads every "
               "authority's items, sources and figures")
    if host is not None and host not in ("127.0.0.1", "localhost", "::1"):
        message += f", and it listens on {host}, so other computers can reach it"
    why = ("ECOUTE_API_ANONYMOUS_READ=true" if settings.api_anonymous_read
           else "ECOUTE_ENV=dev, the default")
    return (f"{message} ({why}). Before exposing it, set ECOUTE_ENV=prod and give each reader "
            "a key from `ecoute keys create`.")


def scoped_authority(
    session: Session, settings: Settings, key: ApiKey | None, slug: str | None
) -> Authority:
    """The authority a request may act on: the key's own, or any for an unscoped key."""
    if key is None or key.authority_id is None:
        return get_authority(session, slug or settings.default_authority)
    own = session.get(Authority, key.authority_id)
    if own is None:
        raise Unauthorized("the authority of this API key no longer exists", hint=KEY_HINT)
    if slug and slug != own.slug:
        raise Forbidden(f"this API key belongs to authority {own.slug!r}, not {slug!r}")
    return own


def require_key(*roles: Role) -> Callable[..., ApiKey]:
    """A dependency refusing requests without a key of one of ``roles``."""
    allowed = frozenset(roles)

    def dependency(key: CurrentKey) -> ApiKey:
        if key is None:
            raise Unauthorized("this endpoint needs an API key", hint=KEY_HINT)
        if key.role not in allowed:
            raise Forbidden(f"a {key.role} key cannot do this; it needs one of the roles "
                            f"{', '.join(sorted(allowed))}")
        return key

    return dependency


def key_actor(key: ApiKey) -> str:
    """Who did it, as recorded with a correction or a follow-up change: the key's prefix (never
    the token) and its label."""
    return f"key:{key.prefix}" + (f" ({key.label})" if key.label else "")


IngestKey = Annotated[ApiKey, Depends(require_key(Role.INGEST, Role.ADMIN))]
OfficerKey = Annotated[ApiKey, Depends(require_key(Role.OFFICER, Role.ADMIN))]
AuthorityQuery = Annotated[
    str | None, Query(description="Authority slug; the key's own, or the installation's "
                      "default when empty.")
]


def _read_access(settings: SettingsDep, key: CurrentKey) -> ApiKey | None:
    """The read rule: a key of a reading role, or none where anonymous reading is allowed."""
    if key is None:
        if not anonymous_read_allowed(settings):
            raise Unauthorized("reading this API needs an API key", hint=KEY_HINT)
    elif key.role not in READ_ROLES:
        raise Forbidden(f"a {key.role} key cannot read data; use a viewer, officer or "
                        "admin key")
    return key


ReadAccess = Annotated[ApiKey | None, Depends(_read_access)]


def _authority(
    session: SessionDep, settings: SettingsDep, key: ReadAccess, authority: AuthorityQuery = None,
) -> Authority:
    return scoped_authority(session, settings, key, authority)


AuthorityDep = Annotated[Authority, Depends(_authority)]
