from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from ecoute.api.deps import AuthorityDep, SessionDep, SettingsDep, require_key
from ecoute.api.schemas import (
    COMMON_ERRORS,
    MAX_ID,
    SourceFigureOut,
    SourceOut,
    SourcePatch,
    SourceRemovedOut,
    error_responses,
)
from ecoute.collectors.service import SourceView, change_source, remove_source, source_views
from ecoute.config.settings import Settings
from ecoute.errors import SourceNotFound
from ecoute.store.models import ApiKey, Role, Source
from ecoute.store.source_figures import figure_history
from ecoute.store.sources import get_source

router = APIRouter(tags=["sources"], responses=COMMON_ERRORS)

AdminKey = Annotated[ApiKey, Depends(require_key(Role.ADMIN))]
SourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the source")]


def _out(view: SourceView) -> SourceOut:
    health = view.health
    return SourceOut(
        id=view.id, name=view.name, kind=view.kind, enabled=view.enabled, options=view.options,
        schedule=view.schedule, items=view.items, last_run_at=view.last_run_at,
        last_success_at=view.last_success_at, last_error=view.last_error,
        consecutive_failures=view.consecutive_failures, health=health.state,
        flagged=health.flagged, backing_off_until=health.retry_at,
        quarantined=health.quarantined,
        figures=[SourceFigureOut.model_validate(f, from_attributes=True) for f in view.figures],
    )


@router.get("/sources", response_model=list[SourceOut])
def get_sources(session: SessionDep, settings: SettingsDep, authority: AuthorityDep
                ) -> list[SourceOut]:
    """The authority's sources with their health, back-off, item counts and own figures;
    secret options (tokens, API keys) are never returned, whatever the key's role."""
    return [_out(view) for view in source_views(session, settings, authority.id)]


def _listed_source(session: Session, settings: Settings, authority_id: int, source_id: int
                   ) -> SourceView:
    """The source as listed, if the authority lists it."""
    found = source_views(session, settings, authority_id, [source_id])
    if not found:
        raise SourceNotFound(f"no source with id {source_id}")
    return found[0]


@router.get("/sources/{source_id}", response_model=SourceOut, responses=error_responses(404))
def get_one_source(source_id: SourceId, session: SessionDep, settings: SettingsDep,
                   authority: AuthorityDep) -> SourceOut:
    """One source with its health, item count and own current figures (a review page's
    average rating, which is never counted as feedback)."""
    return _out(_listed_source(session, settings, authority.id, source_id))


@router.get("/sources/{source_id}/figures", response_model=list[SourceFigureOut],
            responses=error_responses(404))
def get_source_figures(source_id: SourceId, session: SessionDep, settings: SettingsDep,
                       authority: AuthorityDep) -> list[SourceFigureOut]:
    """The history of a source's own figures (its average rating as it changed), newest
    first."""
    _listed_source(session, settings, authority.id, source_id)
    return [SourceFigureOut.model_validate(f, from_attributes=True)
            for f in figure_history(session, source_id)]


def _admin_source(session: Session, key: ApiKey, source_id: int) -> Source:
    """The source, if the key may change it: an authority's admin only its own."""
    source = get_source(session, source_id)
    if source.removed_at is not None or (
            key.authority_id is not None and source.authority_id != key.authority_id):
        raise SourceNotFound(f"no source with id {source_id}")
    return source


@router.patch("/sources/{source_id}", response_model=SourceOut,
              responses=error_responses(404))
def patch_source(source_id: SourceId, patch: SourcePatch, session: SessionDep,
                 settings: SettingsDep, key: AdminKey) -> SourceOut:
    """Change a source's options, schedule or whether it is collected (admin keys)."""
    source = _admin_source(session, key, source_id)
    change_source(session, source, options=patch.options, schedule=patch.schedule,
                  enabled=patch.enabled)
    return _out(_listed_source(session, settings, source.authority_id, source.id))


@router.delete("/sources/{source_id}", response_model=SourceRemovedOut,
               responses=error_responses(404))
def delete_source(
    source_id: SourceId, session: SessionDep, key: AdminKey,
    keep_items: Annotated[bool, Query(description="Keep the items and their figures; the "
                                      "source stays, disabled and hidden, as their origin")]
    = False,
) -> SourceRemovedOut:
    """Remove a source and, unless `keep_items`, its items and their figures (admin keys)."""
    source = _admin_source(session, key, source_id)
    deleted = remove_source(session, source, keep_items=keep_items)
    return SourceRemovedOut(id=source_id, items_deleted=deleted, items_kept=keep_items)
