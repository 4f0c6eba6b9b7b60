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
from ecoute.collectors.backoff import source_health
from ecoute.collectors.secret_options import scrub, shown_options, source_secrets
from ecoute.collectors.service import change_source, remove_source
from ecoute.config.settings import Settings
from ecoute.errors import SourceNotFound
from ecoute.store.models import ApiKey, Role, Source, SourceFigure
from ecoute.store.source_figures import figure_history, latest_figures
from ecoute.store.sources import get_source, last_run_quarantined, list_sources

router = APIRouter(tags=["sources"], responses=COMMON_ERRORS)

AdminKey = Annotated[ApiKey, Depends(require_key(Role.ADMIN))]
SourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the source")]


def _view(source: Source, items: int, quarantined: int, settings: Settings,
          figures: list[SourceFigure] | None = None) -> SourceOut:
    return SourceOut(
        id=source.id, name=source.name, kind=source.kind, enabled=source.enabled,
        options=shown_options(source.kind, source.options), schedule=source.schedule,
        items=items, last_run_at=source.last_run_at, last_success_at=source.last_success_at,
        last_error=scrub(source.last_error, source_secrets(source.kind, source.options)),
        consecutive_failures=source.consecutive_failures,
        health=source_health(source, settings, quarantined=quarantined).state,
        quarantined=quarantined,
        figures=[SourceFigureOut.model_validate(f, from_attributes=True) for f in figures or []],
    )


@router.get("/sources", response_model=list[SourceOut])
def get_sources(session: SessionDep, settings: SettingsDep, authority: AuthorityDep
                ) -> list[SourceOut]:
    """The authority's sources with their health, item counts and own figures; secret options
    (tokens, API keys) are never returned, whatever the key's role."""
    listed = list_sources(session, authority.id)
    held = last_run_quarantined(session, [s.id for s, _n in listed])
    figures = latest_figures(session, [s.id for s, _n in listed])
    return [_view(s, n, held.get(s.id, 0), settings, figures.get(s.id)) for s, n in listed]


def _listed_source(session: Session, authority_id: int, source_id: int) -> tuple[Source, int]:
    """The source and its item count, if the authority lists it."""
    found = {s.id: (s, n) for s, n in list_sources(session, authority_id)}
    if source_id not in found:
        raise SourceNotFound(f"no source with id {source_id}")
    return found[source_id]


@router.get("/sources/{source_id}", response_model=SourceOut, responses=error_responses(404))
def get_one_source(source_id: SourceId, session: SessionDep, settings: SettingsDep,
                   authority: AuthorityDep) -> SourceOut:
    """One source with its health, item count and own current figures (a review page's
    average rating, which is never counted as feedback)."""
    source, items = _listed_source(session, authority.id, source_id)
    held = last_run_quarantined(session, [source_id]).get(source_id, 0)
    return _view(source, items, held, settings,
                 latest_figures(session, [source_id]).get(source_id))


@router.get("/sources/{source_id}/figures", response_model=list[SourceFigureOut],
            responses=error_responses(404))
def get_source_figures(source_id: SourceId, session: SessionDep, authority: AuthorityDep
                       ) -> list[SourceFigureOut]:
    """The history of a source's own figures (its average rating as it changed), newest
    first."""
    _listed_source(session, authority.id, source_id)
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
    counted = dict(list_sources(session, source.authority_id)).get(source, 0)
    held = last_run_quarantined(session, [source.id]).get(source.id, 0)
    return _view(source, counted, held, settings)


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
