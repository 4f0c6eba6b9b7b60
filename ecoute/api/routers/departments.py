"""Departments and their shared view: open and overdue follow-ups, and the department's
figures beside the whole authority's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from ecoute.api.deps import AuthorityDep, SessionDep, SettingsDep
from ecoute.api.followup_schemas import (
    Beside,
    DepartmentOut,
    DepartmentSummary,
    ResponsivenessBeside,
    figure_out,
    followup_out,
    responsiveness_out,
)
from ecoute.api.schemas import COMMON_ERRORS, MAX_ID, error_responses
from ecoute.assessment.followups import followup_views, responsiveness
from ecoute.assessment.satisfaction import authority_today, parse_window, satisfaction
from ecoute.store.authorities import list_departments
from ecoute.store.departments import get_department
from ecoute.store.followups import OPEN

router = APIRouter(tags=["departments"], responses=COMMON_ERRORS)
DepartmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the department")]


@router.get("/departments", response_model=list[DepartmentOut])
def get_departments(session: SessionDep, settings: SettingsDep,
                    authority: AuthorityDep) -> list[DepartmentOut]:
    """The authority's departments with their open and overdue follow-ups."""
    views = followup_views(session, authority, settings, statuses=OPEN)
    return [DepartmentOut(
        id=d.id, name=d.name,
        open=sum(1 for v in views if v.item.department_id == d.id),
        overdue=sum(1 for v in views if v.item.department_id == d.id and v.overdue),
    ) for d in list_departments(session, authority.id)]


@router.get("/departments/{department_id}/summary", response_model=DepartmentSummary,
            responses=error_responses(404))
def get_department_summary(
    department_id: DepartmentId, session: SessionDep, settings: SettingsDep,
    authority: AuthorityDep,
    window: Annotated[str, Query(json_schema_extra={"pattern": r"^[1-9][0-9]{0,3}d$"},
                                 description="Rolling window in days: 7d, 30d, 90d...")]
    = "30d",
    limit: Annotated[int, Query(ge=0, le=500, description="Open follow-ups listed")] = 50,
) -> DepartmentSummary:
    """A department's open and overdue follow-ups, and its satisfaction and responsiveness
    over the window beside the whole authority's, for the people who act on feedback."""
    department = get_department(session, department_id, authority.id)
    today = authority_today(authority)
    span = parse_window(window, today)
    open_views = followup_views(session, authority, settings, department_id=department.id,
                                statuses=OPEN, today=today)
    open_views.sort(key=lambda v: (not v.overdue, v.due, v.followup.id))
    ours = satisfaction(session, authority, span, min_sample_size=settings.min_sample_size,
                        department_id=department.id)
    everyone = satisfaction(session, authority, span, min_sample_size=settings.min_sample_size)
    return DepartmentSummary(
        department=DepartmentOut(id=department.id, name=department.name, open=len(open_views),
                                 overdue=sum(1 for v in open_views if v.overdue)),
        window=window, start=span.start, end=span.end,
        open_followups=[followup_out(v, {department.id: department.name})
                        for v in open_views[:limit]],
        overall=Beside(department=figure_out(ours.overall), authority=figure_out(everyone.overall)),
        determinants=[Beside(department=figure_out(d), authority=figure_out(a))
                      for d, a in zip(ours.determinants, everyone.determinants, strict=True)],
        responsiveness=ResponsivenessBeside(
            department=responsiveness_out(responsiveness(
                session, authority, settings, start=span.start, end=span.end,
                department_id=department.id, today=today)),
            authority=responsiveness_out(responsiveness(
                session, authority, settings, start=span.start, end=span.end, today=today)),
        ),
    )
