from __future__ import annotations


from fastapi import APIRouter

from ecoute.api.deps import AuthorityDep, SessionDep, SettingsDep
from ecoute.api.filter_params import ChannelFilter, DepartmentFilter, RollingWindow, SiteFilter, SourceFilter
from ecoute.api.rating_schemas import Ratings, ratings_out
from ecoute.api.schemas import COMMON_ERRORS
from ecoute.assessment.ratings import ratings
from ecoute.assessment.satisfaction import authority_today, parse_window
from ecoute.store.ratings import RatingFilters

router = APIRouter(tags=["satisfaction"], responses=COMMON_ERRORS)


@router.get("/satisfaction/ratings", response_model=Ratings)
def get_ratings(
    session: SessionDep,
    settings: SettingsDep,
    authority: AuthorityDep,
    window: RollingWindow = "30d",
    channel: ChannelFilter = None,
    site_id: SiteFilter = None,
    department_id: DepartmentFilter = None,
    source_id: SourceFilter = None,
) -> Ratings:
    """Ratings and surveys per rating scale: mean normalised rating (t 95 % interval), CSAT
    share (Wilson interval) and, on 0-10 answers, the Net Promoter Score with its interval,
    beside the previous window of the same length. Counted from rated items as soon as they
    are collected."""
    span = parse_window(window, authority_today(authority))
    report = ratings(
        session, authority, span, min_sample_size=settings.min_sample_size,
        filters=RatingFilters(channel=channel.value if channel else None, site_id=site_id,
                              department_id=department_id, source_id=source_id),
    )
    return ratings_out(authority.slug, window, report)
