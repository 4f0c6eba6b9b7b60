from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ecoute.api.deps import AuthorityDep, SessionDep, SettingsDep
from ecoute.api.filter_params import ChannelFilter, DepartmentFilter, SiteFilter, SourceFilter
from ecoute.api.satisfaction_schemas import (
    Satisfaction,
    Timeseries,
    compared_out,
    group_out,
    point_out,
)
from ecoute.api.schemas import COMMON_ERRORS, DETERMINANT_ENUM
from ecoute.assessment.call_facts import call_facts
from ecoute.assessment.comparisons import compared_satisfaction
from ecoute.assessment.satisfaction import GROUP_BY, Filters, authority_today, grouped
from ecoute.assessment.series import GRANULARITIES, timeseries
from ecoute.assessment.windows import Window, parse_window, window_between
from ecoute.domain import DETERMINANTS, OVERALL, Channel
from ecoute.store.models import Authority

router = APIRouter(tags=["satisfaction"], responses=COMMON_ERRORS)

WINDOW_DOC = ("Rolling days (7d, 30d, 365d; 1d to 9999d), a calendar period so far (week, "
              "month, quarter, year) or a whole one (2026-W47 ISO week, 2026-11, 2026-Q4, "
              "2026); days in the authority's time zone")
#: The series a granularity shows when no window is given.
SERIES_WINDOW = {"day": "30d", "week": "182d", "month": "365d"}


def _filters(
    channel: ChannelFilter = None,
    site_id: SiteFilter = None,
    department_id: DepartmentFilter = None,
    source_id: SourceFilter = None,
    lang: Annotated[str | None, Query(max_length=16, description="Only items in this "
                                      "language (fr, en...)")] = None,
) -> Filters:
    return Filters(channel=channel.value if channel else None, site_id=site_id,
                   department_id=department_id, source_id=source_id, lang=lang)


@dataclass(frozen=True)
class ChosenWindow:
    label: str
    window: Window


def _span(authority: Authority, window: str | None, start: date | None, end: date | None,
          default: str) -> ChosenWindow:
    today = authority_today(authority)
    if start is not None or end is not None:
        chosen = window_between(start, end, today)
        return ChosenWindow(f"{chosen.start}..{chosen.end}", chosen)
    spec = window or default
    return ChosenWindow(spec, parse_window(spec, today))


FiltersDep = Annotated[Filters, Depends(_filters)]
FromQuery = Annotated[date | None, Query(alias="from", description="First day (instead of "
                                         "window), in the authority's time zone")]
ToQuery = Annotated[date | None, Query(alias="to", description="Last day (with from; "
                                       "default today)")]
DeterminantQuery = Annotated[str | None, Query(
    json_schema_extra=DETERMINANT_ENUM,
    description="A determinant; the overall sentiment when absent")]


@router.get("/satisfaction", response_model=Satisfaction)
def get_satisfaction(
    session: SessionDep,
    settings: SettingsDep,
    authority: AuthorityDep,
    filters: FiltersDep,
    window: Annotated[str, Query(description=WINDOW_DOC)] = "30d",
    start: FromQuery = None,
    end: ToQuery = None,
    group_by: Annotated[str | None, Query(
        json_schema_extra={"enum": list(GROUP_BY)},
        description="One figure per channel, site, department, source or language")] = None,
    determinant: DeterminantQuery = None,
) -> Satisfaction:
    """Satisfaction per determinant: positive share of mentions with a Wilson 95 % interval,
    each set against the previous window and the same window a year before. Accessibility and
    waiting time also carry the phone figures of the same days as `facts`, apart from the
    mentions."""
    span = _span(authority, window, start, end, "30d")
    report = compared_satisfaction(session, authority, span.window,
                                   min_sample_size=settings.min_sample_size, filters=filters)
    groups = None
    if group_by is not None:
        groups = [group_out(g) for g in grouped(
            session, authority, span.window, group_by, determinant=determinant or OVERALL,
            min_sample_size=settings.min_sample_size, filters=filters)]
    now = report.report
    facts = None
    if filters.channel in (None, Channel.PHONE.value) and filters.lang is None:
        # Calls have no language; any other channel filter leaves the phone out.
        facts = call_facts(session, authority, span.window.start, span.window.end,
                           department_id=filters.department_id, site_id=filters.site_id,
                           source_id=filters.source_id)
    return Satisfaction(
        authority=authority.slug, window=span.label, start=span.window.start,
        end=span.window.end, min_sample_size=now.min_sample_size,
        overall=compared_out(report, None),
        determinants=[compared_out(report, name, facts) for name in DETERMINANTS],
        rating_mean=now.rating_mean, rating_count=now.rating_count,
        group_by=group_by, groups=groups,
    )


@router.get("/satisfaction/timeseries", response_model=Timeseries)
def get_timeseries(
    session: SessionDep,
    settings: SettingsDep,
    authority: AuthorityDep,
    filters: FiltersDep,
    granularity: Annotated[str, Query(json_schema_extra={"enum": list(GRANULARITIES)},
                                      description="One point per day, ISO week or month")
                           ] = "day",
    determinant: DeterminantQuery = None,
    window: Annotated[str | None, Query(description=WINDOW_DOC + "; default 30d by day, "
                                        "182d by week, 365d by month")] = None,
    start: FromQuery = None,
    end: ToQuery = None,
) -> Timeseries:
    """Share positive, Wilson interval, n and net score per day, week or month, oldest
    first; the first point starts at the start of its week or month."""
    span = _span(authority, window, start, end, SERIES_WINDOW.get(granularity, "30d"))
    points = timeseries(session, authority, span.window, granularity,
                        determinant=determinant or OVERALL,
                        min_sample_size=settings.min_sample_size, filters=filters)
    return Timeseries(
        authority=authority.slug, determinant=determinant or OVERALL, granularity=granularity,
        start=points[0].start if points else span.window.start, end=span.window.end,
        min_sample_size=settings.min_sample_size, points=[point_out(p) for p in points],
    )
