from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from ecoute.api.deps import AuthorityDep, SessionDep, SettingsDep
from ecoute.api.schemas import COMMON_ERRORS, DurationsOut, ResponseFiguresOut, ResponseTimes
from ecoute.assessment.responsiveness import ResponseFigures, response_times
from ecoute.assessment.satisfaction import authority_today, parse_window
from ecoute.assessment.working_days import WorkingCalendar
from ecoute.domain import Channel

router = APIRouter(tags=["response times"], responses=COMMON_ERRORS)


def _out(f: ResponseFigures) -> ResponseFiguresOut:
    return ResponseFiguresOut(
        id=f.group_id, name=f.name, received=f.received,
        to_answer=DurationsOut(**asdict(f.to_answer)), to_close=DurationsOut(**asdict(f.to_close)),
        within_promise=f.within_promise, judged=f.judged,
        share_within_promise=f.share_within_promise,
        ci_low=f.interval.low if f.interval else None,
        ci_high=f.interval.high if f.interval else None, sufficient=f.sufficient,
        unanswered=f.unanswered, overdue=f.overdue, open=f.open,
    )


@router.get("/response-times", response_model=ResponseTimes)
def get_response_times(
    session: SessionDep,
    settings: SettingsDep,
    authority: AuthorityDep,
    window: Annotated[str, Query(json_schema_extra={"pattern": r"^[1-9][0-9]{0,3}d$"},
                                 description="Cases received in the last N days: 30d, 90d... "
                                 "(1d to 9999d)")] = "90d",
    channel: Annotated[Channel | None, Query(description="Only this channel (e.g. "
                                             "service_request, complaint)")] = None,
) -> ResponseTimes:
    """How fast service requests and complaints were answered and closed (median and 90th
    percentile, in days and working days), the share answered within the authority's promise
    and the overdue ones, overall, per department and per site."""
    span = parse_window(window, authority_today(authority))
    calendar = WorkingCalendar(settings.public_holidays, settings.extra_holidays)
    report = response_times(
        session, authority, span, promise_working_days=settings.response_promise_working_days,
        calendar=calendar, min_sample_size=settings.min_sample_size,
        channel=channel.value if channel else None,
    )
    return ResponseTimes(
        authority=authority.slug, window=window, start=span.start, end=span.end,
        promise_working_days=report.promise_working_days, public_holidays=report.calendar,
        min_sample_size=report.min_sample_size, overall=_out(report.overall),
        departments=[_out(f) for f in report.departments], sites=[_out(f) for f in report.sites],
    )
