from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ecoute.api.deps import AuthorityDep, SessionDep, SettingsDep
from ecoute.api.schemas import COMMON_ERRORS, MAX_ID, Figure, Satisfaction
from ecoute.assessment.satisfaction import (
    DeterminantFigure,
    authority_today,
    parse_window,
    satisfaction,
)
from ecoute.domain import Channel

router = APIRouter(tags=["satisfaction"], responses=COMMON_ERRORS)


def _figure(f: DeterminantFigure) -> Figure:
    return Figure(
        determinant=f.determinant, positive=f.positive, negative=f.negative, neutral=f.neutral,
        n=f.n, share_positive=f.share_positive,
        ci_low=f.interval.low if f.interval else None,
        ci_high=f.interval.high if f.interval else None,
        net_score=f.net_score, sufficient=f.sufficient,
    )


@router.get("/satisfaction", response_model=Satisfaction)
def get_satisfaction(
    session: SessionDep,
    settings: SettingsDep,
    authority: AuthorityDep,
    # The pattern is declared, not enforced by FastAPI: parse_window's refusal says what to
    # write instead.
    window: Annotated[str, Query(json_schema_extra={"pattern": r"^[1-9][0-9]{0,3}d$"},
                                 description="Rolling window in days: 7d, 30d, 90d... "
                                 "(1d to 9999d)")] = "30d",
    channel: Annotated[Channel | None, Query(description="Only this channel")] = None,
    site_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this site")] = None,
    department_id: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                               description="Only this department")] = None,
) -> Satisfaction:
    """Satisfaction per determinant: positive share of mentions with a Wilson 95 % interval."""
    span = parse_window(window, authority_today(authority))
    report = satisfaction(
        session, authority, span, min_sample_size=settings.min_sample_size,
        channel=channel.value if channel else None,
        site_id=site_id, department_id=department_id,
    )
    return Satisfaction(
        authority=authority.slug, window=window, start=span.start, end=span.end,
        min_sample_size=report.min_sample_size, overall=_figure(report.overall),
        determinants=[_figure(f) for f in report.determinants],
        rating_mean=report.rating_mean, rating_count=report.rating_count,
    )
