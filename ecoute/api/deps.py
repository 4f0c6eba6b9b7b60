"""Request-scoped dependencies: the session (committed at the request boundary), settings,
and the authority the request is about."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from ecoute.config.settings import Settings
from ecoute.store.authorities import get_authority
from ecoute.store.db import session_scope
from ecoute.store.models import Authority


def _session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.session_factory) as session:
        yield session


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(_session)]
SettingsDep = Annotated[Settings, Depends(_settings)]


def _authority(
    session: SessionDep,
    settings: SettingsDep,
    authority: Annotated[
        str | None, Query(description="Authority slug; the installation's default when empty.")
    ] = None,
) -> Authority:
    return get_authority(session, authority or settings.default_authority)


AuthorityDep = Annotated[Authority, Depends(_authority)]
