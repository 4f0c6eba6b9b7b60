"""The overview page (one card per determinant) and the departments and sites page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from ecoute.api.deps import SessionDep, SettingsDep
from ecoute.api.web.alerts import active_alerts
from ecoute.api.web.auth import ReaderDep, viewer_authority
from ecoute.api.web.followups import department_followups
from ecoute.api.web.figures import (
    DEFAULT_WINDOW,
    WINDOWS,
    Filters,
    calendar_windows,
    compare,
    overview,
    phone_teams,
    rating_overview,
)
from ecoute.api.web.i18n import Translator, negotiate
from ecoute.api.web.rendering import page
from ecoute.assessment.satisfaction import authority_today
from ecoute.domain import Channel
from ecoute.store.authorities import list_departments, list_sites
from ecoute.store.models import Authority, utcnow

router = APIRouter(include_in_schema=False)

AuthoritySlug = Annotated[str | None, Query(max_length=64)]
WindowQuery = Annotated[str, Query(max_length=10)]
IdQuery = Annotated[int | None, Query(ge=1, le=2**62)]


def places(session: Session, authority: Authority) -> dict[str, Any]:
    """The authority's departments and sites, for filters."""
    return {
        "departments": [(d.id, d.name) for d in list_departments(session, authority.id)],
        "sites": [(s.id, s.name) for s in list_sites(session, authority.id)],
    }


@router.get("/", response_class=HTMLResponse)
def overview_page(
    request: Request, session: SessionDep, settings: SettingsDep, viewer: ReaderDep,
    authority: AuthoritySlug = None, window: WindowQuery = DEFAULT_WINDOW,
    channel: Channel | None = None, site_id: IdQuery = None, department_id: IdQuery = None,
    alerts: Annotated[str | None, Query(pattern="^all$")] = None,
) -> HTMLResponse:
    owner = viewer_authority(session, settings, viewer, authority)
    filters = Filters(channel=channel.value if channel else None, site_id=site_id,
                      department_id=department_id)
    today = authority_today(owner)
    figures = overview(session, owner, window, today,
                       min_sample_size=settings.min_sample_size, filters=filters)
    rated = rating_overview(session, owner, window, today,
                            min_sample_size=settings.min_sample_size, filters=filters)
    params = {"authority": authority, "window": window, "channel": filters.channel,
              "site_id": site_id, "department_id": department_id}
    listed = active_alerts(session, owner, Translator(negotiate(request, owner.locale)),
                           authority, every=alerts == "all")
    return page(request, "overview.html", viewer=viewer, authority=owner, nav="overview",
                figures=figures, ratings=rated, window=window, windows=WINDOWS,
                calendar=calendar_windows(today), params=params,
                largest=max(figures.channels.values(), default=0), alerts=listed,
                **places(session, owner))


@router.get("/departments", response_class=HTMLResponse)
def departments_page(
    request: Request, session: SessionDep, settings: SettingsDep, viewer: ReaderDep,
    authority: AuthoritySlug = None, window: WindowQuery = DEFAULT_WINDOW,
    by: Annotated[str, Query(pattern="^(department|site)$")] = "department",
) -> HTMLResponse:
    owner = viewer_authority(session, settings, viewer, authority)
    known = places(session, owner)
    groups = known["departments"] if by == "department" else known["sites"]
    today = authority_today(owner)
    columns = compare(session, owner, window, today,
                      min_sample_size=settings.min_sample_size, by=by, groups=groups)
    params = {"authority": authority, "window": window, "by": by}
    followups = department_followups(session, settings, owner) if by == "department" else None
    phone = phone_teams(session, owner, window, today, utcnow())
    return page(request, "departments.html", viewer=viewer, authority=owner, nav="departments",
                columns=columns, window=window, windows=WINDOWS, calendar=calendar_windows(today),
                by=by, params=params,
                followups=followups, phone=phone)
