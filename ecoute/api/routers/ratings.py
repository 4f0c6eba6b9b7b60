from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ecoute.api.deps import AuthorityDep, SessionDep, SettingsDep
from ecoute.api.rating_schemas import Ratings, ratings_out
from ecoute.api.schemas import COMMON_ERRORS, MAX_ID
from ecoute.assessment.ratings import ratings
from ecoute.assessment.satisfaction import authority_today, parse_window
from ecoute.domain import Channel
from ecoute.store.ratings import RatingFilters

router = APIRouter(tags=["satisfaction"], responses=COMMON_ERRORS)


@router.get("/satisfaction/ratings", response_model=Ratings)
def get_ratings(
    session: SessionDep,
    settings: SettingsDep,
    authority: AuthorityDep,
    window: Annotated[str, Query(json_schema_extra={"pattern": r"^[1-9][0-9]{0,3}d$"},
                                 description="Rolling window in days: 7d, 30d, 90d... "
                                 "(1d to 9999d)")] = "30d",
    channel: Annotated[Channel | None, Query(description="Only this channel")] = None,
    site_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this site")] = None,
    department_id: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                               description="Only this department")] = None,
    source_id: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                           description="Only this source")] = None,
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
