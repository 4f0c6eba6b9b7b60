from __future__ import annotations

from fastapi import APIRouter

from ecoute.api.deps import AuthorityDep, SessionDep
from ecoute.api.schemas import SourceOut
from ecoute.store.sources import list_sources

router = APIRouter(tags=["sources"])


@router.get("/sources", response_model=list[SourceOut])
def get_sources(session: SessionDep, authority: AuthorityDep) -> list[SourceOut]:
    """The authority's sources with their health and item counts."""
    return [
        SourceOut(
            id=s.id, name=s.name, kind=s.kind, enabled=s.enabled, options=s.options,
            schedule=s.schedule, items=n, last_run_at=s.last_run_at,
            last_success_at=s.last_success_at, last_error=s.last_error,
            consecutive_failures=s.consecutive_failures,
        )
        for s, n in list_sources(session, authority.id)
    ]
