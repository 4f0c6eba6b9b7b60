"""Volunteers, back-up teams (one per phone queue), their activations and the volunteers'
answers to them (``BackupCall``)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoute.errors import BackupCallNotFound, BackupTeamNotFound, Conflict, VolunteerNotFound
from ecoute.store.models import (
    BackupActivation,
    BackupCall,
    BackupTeam,
    BackupTeamMember,
    CallStatus,
    Volunteer,
)


def list_volunteers(session: Session, authority_id: int) -> list[Volunteer]:
    return list(session.scalars(select(Volunteer).where(Volunteer.authority_id == authority_id)
                                .order_by(Volunteer.name, Volunteer.id)))


def get_volunteer(session: Session, authority_id: int | None, volunteer_id: int) -> Volunteer:
    """The volunteer of this authority (of any with None); NotFound for another authority's,
    as for none."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or authority_id not in (None, volunteer.authority_id):
        raise VolunteerNotFound(f"no volunteer with id {volunteer_id}",
                       hint="list them with GET /api/v1/volunteers or `ecoute volunteers list`")
    return volunteer


def volunteer_by_email(session: Session, authority_id: int, email: str) -> Volunteer:
    volunteer = session.scalar(select(Volunteer).where(
        Volunteer.authority_id == authority_id, Volunteer.email == email.strip().lower()))
    if volunteer is None:
        raise VolunteerNotFound(f"no volunteer with the e-mail address {email}",
                       hint="list them with `ecoute volunteers list`")
    return volunteer


def add_volunteer(session: Session, authority_id: int, **fields: object) -> Volunteer:
    email = str(fields.pop("email")).strip().lower()
    if session.scalar(select(Volunteer.id).where(Volunteer.authority_id == authority_id,
                                                 Volunteer.email == email)):
        raise Conflict(f"a volunteer with the e-mail address {email} already exists",
                       hint="change that volunteer instead of adding another")
    volunteer = Volunteer(authority_id=authority_id, email=email, **fields)
    session.add(volunteer)
    session.flush()
    return volunteer


def list_teams(session: Session, authority_id: int) -> list[BackupTeam]:
    return list(session.scalars(select(BackupTeam).where(BackupTeam.authority_id == authority_id)
                                .order_by(BackupTeam.queue)))


def get_team(session: Session, authority_id: int | None, team_id: int) -> BackupTeam:
    team = session.get(BackupTeam, team_id)
    if team is None or authority_id not in (None, team.authority_id):
        raise BackupTeamNotFound(f"no back-up team with id {team_id}",
                       hint="list them with GET /api/v1/backup-teams or `ecoute volunteers teams`")
    return team


def team_of_queue(session: Session, authority_id: int, queue: str) -> BackupTeam | None:
    return session.scalar(select(BackupTeam).where(BackupTeam.authority_id == authority_id,
                                                   BackupTeam.queue == queue))


def add_team(session: Session, authority_id: int, *, name: str, queue: str,
             department_id: int | None, thresholds: dict[str, float]) -> BackupTeam:
    if team_of_queue(session, authority_id, queue) is not None:
        raise Conflict(f"the phone queue {queue!r} already has a back-up team",
                       hint="change that team, or add volunteers to it")
    team = BackupTeam(authority_id=authority_id, name=name, queue=queue,
                      department_id=department_id, thresholds=thresholds)
    session.add(team)
    session.flush()
    return team


def members(session: Session, team_id: int) -> list[Volunteer]:
    return list(session.scalars(
        select(Volunteer).join(BackupTeamMember, BackupTeamMember.volunteer_id == Volunteer.id)
        .where(BackupTeamMember.team_id == team_id).order_by(Volunteer.name, Volunteer.id)))


def add_member(session: Session, team: BackupTeam, volunteer: Volunteer) -> None:
    if team.authority_id != volunteer.authority_id:
        raise VolunteerNotFound(f"no volunteer with id {volunteer.id}")
    try:
        with session.begin_nested():
            session.add(BackupTeamMember(team_id=team.id, volunteer_id=volunteer.id))
    except IntegrityError:
        pass  # already a member: adding twice is the same as once


def remove_member(session: Session, team_id: int, volunteer_id: int) -> bool:
    result = session.execute(delete(BackupTeamMember).where(
        BackupTeamMember.team_id == team_id, BackupTeamMember.volunteer_id == volunteer_id))
    return bool(getattr(result, "rowcount", 0))


def activation_of_overload(session: Session, overload_id: int) -> BackupActivation | None:
    return session.scalar(select(BackupActivation).where(
        BackupActivation.overload_id == overload_id))


def add_activation(session: Session, team: BackupTeam, overload_id: int, at: datetime,
                   volunteers: Sequence[Volunteer]) -> BackupActivation:
    """The activation and a call to notify for each volunteer."""
    activation = BackupActivation(authority_id=team.authority_id, team_id=team.id,
                                  overload_id=overload_id, started_at=at)
    session.add(activation)
    session.flush()
    add_calls(session, activation, volunteers)
    return activation


def add_calls(session: Session, activation: BackupActivation,
              volunteers: Sequence[Volunteer]) -> list[BackupCall]:
    """A call to notify for each of these volunteers not yet called for the activation (a
    volunteer is called once per activation, whatever they answered)."""
    called = set(session.scalars(select(BackupCall.volunteer_id).where(
        BackupCall.activation_id == activation.id)))
    added = [BackupCall(activation_id=activation.id, volunteer_id=v.id,
                        status=CallStatus.PENDING, token_salt=secrets.token_hex(8))
             for v in volunteers if v.id not in called]
    session.add_all(added)
    session.flush()
    return added


def close_activation(session: Session, activation: BackupActivation, at: datetime) -> None:
    """Close it, and end the hours of those who accepted and declared no end of their own."""
    activation.ended_at = at
    session.execute(update(BackupCall).where(
        BackupCall.activation_id == activation.id, BackupCall.status == CallStatus.ACCEPTED,
        BackupCall.ended_at.is_(None)).values(ended_at=at))


def list_activations(session: Session, authority_id: int, *, since: datetime | None = None,
                     until: datetime | None = None) -> list[BackupActivation]:
    query = select(BackupActivation).where(BackupActivation.authority_id == authority_id)
    if since is not None:
        query = query.where((BackupActivation.ended_at.is_(None))
                            | (BackupActivation.ended_at > since))
    if until is not None:
        query = query.where(BackupActivation.started_at < until)
    return list(session.scalars(query.order_by(BackupActivation.started_at,
                                               BackupActivation.id)))


def calls_of(session: Session, activation_ids: Sequence[int]
             ) -> list[tuple[BackupCall, Volunteer]]:
    if not activation_ids:
        return []
    return [(c, v) for c, v in session.execute(
        select(BackupCall, Volunteer).join(Volunteer, Volunteer.id == BackupCall.volunteer_id)
        .where(BackupCall.activation_id.in_(list(activation_ids)))
        .order_by(BackupCall.activation_id, Volunteer.name))]


def get_call(session: Session, authority_id: int | None, call_id: int) -> BackupCall:
    query = select(BackupCall).join(
        BackupActivation, BackupActivation.id == BackupCall.activation_id
    ).where(BackupCall.id == call_id)
    if authority_id is not None:
        query = query.where(BackupActivation.authority_id == authority_id)
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise BackupCallNotFound(f"no volunteer call with id {call_id}",
                       hint="the calls are listed with GET /api/v1/backup-activations")
    return found


def claim_pending_calls(session: Session, limit: int = 100) -> list[int]:
    """Take the calls of open activations waiting to be notified: each one is taken by one
    sender only (the status moves from pending to sending in one statement)."""
    ids = list(session.scalars(
        select(BackupCall.id)
        .join(BackupActivation, BackupActivation.id == BackupCall.activation_id)
        .where(BackupCall.status == CallStatus.PENDING, BackupActivation.ended_at.is_(None))
        .order_by(BackupCall.id).limit(limit)))
    taken = []
    for call_id in ids:
        result = session.execute(update(BackupCall).where(
            BackupCall.id == call_id, BackupCall.status == CallStatus.PENDING,
        ).values(status=CallStatus.SENDING))
        if getattr(result, "rowcount", 0):
            taken.append(call_id)
    return taken


def accepted_calls(session: Session, authority_id: int, start: datetime, end: datetime
                   ) -> list[tuple[BackupCall, Volunteer, BackupActivation]]:
    """Accepted calls of activations that may hold hours started in [``start``, ``end``):
    those started before ``end`` and not ended before ``start`` (a call starts within its
    activation)."""
    query = (
        select(BackupCall, Volunteer, BackupActivation)
        .join(Volunteer, Volunteer.id == BackupCall.volunteer_id)
        .join(BackupActivation, BackupActivation.id == BackupCall.activation_id)
        .where(BackupActivation.authority_id == authority_id,
               BackupCall.status == CallStatus.ACCEPTED,
               BackupActivation.started_at < end,
               (BackupActivation.ended_at.is_(None)) | (BackupActivation.ended_at >= start))
        .order_by(BackupCall.id))
    return [(c, v, a) for c, v, a in session.execute(query)]


def helped_overloads(session: Session, overload_ids: Sequence[int]) -> set[int]:
    """Which of these overloads had an activation that at least one volunteer accepted."""
    if not overload_ids:
        return set()
    return set(session.scalars(
        select(BackupActivation.overload_id)
        .join(BackupCall, BackupCall.activation_id == BackupActivation.id)
        .where(BackupActivation.overload_id.in_(list(overload_ids)),
               BackupCall.status == CallStatus.ACCEPTED).distinct()))


def team_ids_of(session: Session, volunteer_ids: Sequence[int]) -> dict[int, list[int]]:
    """The teams each volunteer belongs to."""
    found: dict[int, list[int]] = {v: [] for v in volunteer_ids}
    if volunteer_ids:
        for team_id, volunteer_id in session.execute(
                select(BackupTeamMember.team_id, BackupTeamMember.volunteer_id)
                .where(BackupTeamMember.volunteer_id.in_(list(volunteer_ids)))
                .order_by(BackupTeamMember.team_id)):
            found[volunteer_id].append(team_id)
    return found


def open_activation(session: Session, team_id: int) -> BackupActivation | None:
    return session.scalar(select(BackupActivation).where(
        BackupActivation.team_id == team_id, BackupActivation.ended_at.is_(None))
        .order_by(BackupActivation.id.desc()).limit(1))
