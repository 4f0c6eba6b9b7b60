"""The authority's sites (a town hall annex, a library, a phone line): the ids that the
``site_id`` filters take."""

from __future__ import annotations

from fastapi import APIRouter

from ecoute.api.deps import AuthorityDep, SessionDep
from ecoute.api.schemas import COMMON_ERRORS, SiteOut
from ecoute.store.authorities import list_sites

router = APIRouter(tags=["sites"], responses=COMMON_ERRORS)


@router.get("/sites", response_model=list[SiteOut])
def get_sites(session: SessionDep, authority: AuthorityDep) -> list[SiteOut]:
    """The authority's sites, by name."""
    return [SiteOut(id=s.id, name=s.name, address=s.address)
            for s in list_sites(session, authority.id)]
