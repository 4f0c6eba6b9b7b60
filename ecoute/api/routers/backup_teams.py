"""The phone back-up team: volunteers, a team per queue, activations and the volunteers'
hours (officers and admins change them, every reading key sees them)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy.orm import Session

from ecoute.api.deps import (
    AuthorityDep,
    AuthorityQuery,
    OfficerKey,
    SessionDep,
    SettingsDep,
    WriterSessionDep,
    scoped_authority,
)
from ecoute.api.phone_schemas import (
    ActivationOut,
    CallOut,
    DepartmentHoursOut,
    HoursIn,
    HoursReportOut,
    MemberIn,
    TeamIn,
    TeamOut,
    TeamPatch,
    VolunteerHoursOut,
    VolunteerIn,
    VolunteerOut,
    VolunteerPatch,
    checked_period,
)
from ecoute.api.schemas import COMMON_ERRORS, MAX_ID, error_responses
from ecoute.assessment.backup_team import declare_minutes
from ecoute.assessment.volunteer_hours import hours_report, to_csv, to_xlsx
from ecoute.errors import InvalidRequest
from ecoute.store.authorities import Places
from ecoute.store.departments import department_names
from ecoute.store.models import BackupTeam, Volunteer, utcnow
from ecoute.store.phone import list_overloads
from ecoute.store.volunteers import (
    add_member,
    add_team,
    add_volunteer,
    calls_of,
    get_call,
    get_team,
    get_volunteer,
    list_activations,
    list_teams,
    list_volunteers,
    members,
    open_activation,
    remove_member,
    team_ids_of,
)

router = APIRouter(tags=["backup teams"], responses=COMMON_ERRORS)
VolunteerId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the volunteer")]
TeamId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the team")]
CallId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the volunteer's call")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def volunteers_out(session: Session, volunteers: list[Volunteer]) -> list[VolunteerOut]:
    names = department_names(session, {v.department_id for v in volunteers
                                        if v.department_id is not None})
    teams = team_ids_of(session, [v.id for v in volunteers])
    return [VolunteerOut(
        id=v.id, name=v.name, email=v.email, phone=v.phone, skills=list(v.skills),
        availability=list(v.availability),
        department=names.get(v.department_id) if v.department_id else None, active=v.active,
        team_ids=teams.get(v.id, [])) for v in volunteers]


def team_out(session: Session, team: BackupTeam) -> TeamOut:
    open_since = {o.queue: o.started_at for o in list_overloads(
        session, team.authority_id, queue=team.queue, active=True)}
    activation = open_activation(session, team.id)
    names = department_names(session, {team.department_id} if team.department_id else set())
    return TeamOut(id=team.id, name=team.name, queue=team.queue,
                   department=names.get(team.department_id) if team.department_id else None,
                   thresholds=dict(team.thresholds),
                   volunteers=volunteers_out(session, members(session, team.id)),
                   overloaded_since=open_since.get(team.queue),
                   activation_id=activation.id if activation else None)


def _volunteer_fields(session: Session, authority_id: int, given: dict[str, Any]
                      ) -> dict[str, Any]:
    fields = dict(given)
    if "department" in fields:
        fields["department_id"] = Places(authority_id).department_id(
            session, fields.pop("department"))
    if "email" in fields and fields["email"] is not None:
        fields["email"] = str(fields["email"]).strip().lower()
    return fields


@router.get("/volunteers", response_model=list[VolunteerOut])
def get_volunteers(session: SessionDep, authority: AuthorityDep) -> list[VolunteerOut]:
    """The authority's volunteers, with the teams they belong to."""
    return volunteers_out(session, list_volunteers(session, authority.id))


@router.post("/volunteers", response_model=VolunteerOut, status_code=201,
             responses=error_responses(409))
def post_volunteer(body: VolunteerIn, session: WriterSessionDep, settings: SettingsDep,
                   key: OfficerKey, authority: AuthorityQuery = None) -> VolunteerOut:
    """Add a volunteer (officer or admin keys)."""
    owner = scoped_authority(session, settings, key, authority)
    fields = _volunteer_fields(session, owner.id, body.model_dump())
    volunteer = add_volunteer(session, owner.id, **fields)
    return volunteers_out(session, [volunteer])[0]


@router.patch("/volunteers/{volunteer_id}", response_model=VolunteerOut,
              responses=error_responses(404, 409))
def patch_volunteer(volunteer_id: VolunteerId, body: VolunteerPatch,
                    session: WriterSessionDep, key: OfficerKey) -> VolunteerOut:
    """Change a volunteer; absent fields stay as they are."""
    volunteer = get_volunteer(session, key.authority_id, volunteer_id)
    given = body.model_dump(exclude_unset=True)
    for name in ("name", "email", "skills", "availability", "active"):
        if name in given and given[name] is None:
            raise InvalidRequest(f"{name} cannot be emptied", hint=f"give a value for {name}")
    for name, value in _volunteer_fields(session, volunteer.authority_id, given).items():
        setattr(volunteer, name, value)
    session.flush()
    return volunteers_out(session, [volunteer])[0]


@router.delete("/volunteers/{volunteer_id}", status_code=204, response_class=Response,
               responses=error_responses(404))
def delete_volunteer(volunteer_id: VolunteerId, session: WriterSessionDep,
                     key: OfficerKey) -> None:
    """Remove a volunteer with their calls and hours (set `active` to false to keep them)."""
    session.delete(get_volunteer(session, key.authority_id, volunteer_id))


@router.get("/backup-teams", response_model=list[TeamOut])
def get_backup_teams(session: SessionDep, authority: AuthorityDep) -> list[TeamOut]:
    """Each team with its volunteers, and whether its queue is overloaded now."""
    return [team_out(session, t) for t in list_teams(session, authority.id)]


@router.post("/backup-teams", response_model=TeamOut, status_code=201,
             responses=error_responses(404, 409))
def post_backup_team(body: TeamIn, session: WriterSessionDep, settings: SettingsDep,
                     key: OfficerKey, authority: AuthorityQuery = None) -> TeamOut:
    """The back-up team of a phone queue (one per queue), with its volunteers and, if the
    queue needs them, its own overload thresholds."""
    owner = scoped_authority(session, settings, key, authority)
    team = add_team(session, owner.id, name=body.name, queue=body.queue,
                    department_id=Places(owner.id).department_id(session, body.department),
                    thresholds=body.thresholds.model_dump(exclude_none=True))
    for volunteer_id in body.volunteer_ids:
        add_member(session, team, get_volunteer(session, owner.id, volunteer_id))
    return team_out(session, team)


@router.get("/backup-teams/{team_id}", response_model=TeamOut, responses=error_responses(404))
def get_backup_team(team_id: TeamId, session: SessionDep, authority: AuthorityDep) -> TeamOut:
    return team_out(session, get_team(session, authority.id, team_id))


@router.patch("/backup-teams/{team_id}", response_model=TeamOut,
              responses=error_responses(404))
def patch_backup_team(team_id: TeamId, body: TeamPatch, session: WriterSessionDep,
                      key: OfficerKey) -> TeamOut:
    """Change a team's name, department or thresholds (a threshold sent as null is the
    installation's again)."""
    team = get_team(session, key.authority_id, team_id)
    given = body.model_dump(exclude_unset=True)
    if given.get("name"):
        team.name = given["name"]
    if "department" in given:
        team.department_id = Places(team.authority_id).department_id(session,
                                                                     given["department"])
    if body.thresholds is not None:
        team.thresholds = body.thresholds.model_dump(exclude_none=True)
    session.flush()
    return team_out(session, team)


@router.delete("/backup-teams/{team_id}", status_code=204, response_class=Response,
               responses=error_responses(404))
def delete_backup_team(team_id: TeamId, session: WriterSessionDep, key: OfficerKey) -> None:
    """Remove a team with its activations and their hours."""
    session.delete(get_team(session, key.authority_id, team_id))


@router.post("/backup-teams/{team_id}/members", response_model=TeamOut,
             responses=error_responses(404))
def post_team_member(team_id: TeamId, body: MemberIn, session: WriterSessionDep,
                     key: OfficerKey) -> TeamOut:
    """Add a volunteer of the same authority to the team."""
    team = get_team(session, key.authority_id, team_id)
    add_member(session, team, get_volunteer(session, team.authority_id, body.volunteer_id))
    return team_out(session, team)


@router.delete("/backup-teams/{team_id}/members/{volunteer_id}", response_model=TeamOut,
               responses=error_responses(404))
def delete_team_member(team_id: TeamId, volunteer_id: VolunteerId, session: WriterSessionDep,
                       key: OfficerKey) -> TeamOut:
    team = get_team(session, key.authority_id, team_id)
    remove_member(session, team.id, get_volunteer(session, team.authority_id, volunteer_id).id)
    return team_out(session, team)


@router.get("/backup-activations", response_model=list[ActivationOut])
def get_backup_activations(
    session: SessionDep, authority: AuthorityDep,
    since: Annotated[datetime | None, Query(description="Default: 30 days ago")] = None,
) -> list[ActivationOut]:
    """The activations over the period, with whom they called and what each answered."""
    start, _ = checked_period(since, None, timedelta(days=30), utcnow(), authority.timezone)
    activations = list_activations(session, authority.id, since=start)
    calls = calls_of(session, [a.id for a in activations])
    return [ActivationOut(
        id=a.id, team_id=a.team_id, overload_id=a.overload_id, started_at=a.started_at,
        ended_at=a.ended_at,
        calls=[CallOut(id=c.id, volunteer_id=v.id, volunteer=v.name, status=c.status,
                       notified_at=c.notified_at, answered_at=c.answered_at,
                       started_at=c.started_at, ended_at=c.ended_at,
                       declared_minutes=c.declared_minutes, error=c.error)
               for c, v in calls if c.activation_id == a.id]) for a in activations]


@router.put("/backup-calls/{call_id}/hours", status_code=204, response_class=Response,
            responses=error_responses(404))
def put_call_hours(call_id: CallId, body: HoursIn, session: WriterSessionDep,
                   key: OfficerKey) -> None:
    """Record the minutes a volunteer declares for an activation (it then counts as
    accepted); they replace the accepted start and end in the hours."""
    declare_minutes(get_call(session, key.authority_id, call_id), body.minutes)


@router.get("/volunteer-hours", response_model=HoursReportOut,
            responses={200: {"content": {"text/csv": {}, XLSX: {}}}, **error_responses(404)})
def get_volunteer_hours(
    session: SessionDep, settings: SettingsDep, authority: AuthorityDep,
    month: Annotated[str | None, Query(pattern=r"^(19[7-9]\d|2[01]\d\d)-(0[1-9]|1[0-2])$",
                                       description="YYYY-MM; default: the current month")] = None,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
) -> Any:
    """The volunteers' hours of a month, per volunteer and per department, as full-time
    equivalents of `ECOUTE_FTE_HOURS_PER_MONTH`; as JSON, CSV or XLSX."""
    now = utcnow()
    first = date.fromisoformat(f"{month}-01") if month else now.date().replace(day=1)
    report = hours_report(session, authority, settings, first, now)
    filename = f"volunteer-hours-{authority.slug}-{first:%Y-%m}"
    if format == "csv":
        return Response(to_csv(report), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{filename}.csv"'})
    if format == "xlsx":
        return Response(to_xlsx(report), media_type=XLSX, headers={
            "Content-Disposition": f'attachment; filename="{filename}.xlsx"'})
    return HoursReportOut(
        month=report.month, fte_hours_per_month=report.fte_hours_per_month,
        volunteers=[VolunteerHoursOut(**r.__dict__) for r in report.volunteers],
        departments=[DepartmentHoursOut(**d.__dict__) for d in report.departments],
        hours=report.hours, fte=report.fte)
