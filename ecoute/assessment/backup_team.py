"""The phone back-up team at work: overload detection run over an authority's queues, an
activation recorded for each overload of a queue with a team (its available volunteers to be
notified), closed when the overload ends; the volunteers' answers.

Notifying is not done here (this layer sends nothing): the calls are written ``pending`` and
the senders of ``ecoute.digest.backup_notices`` take them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoute.assessment.alerts import evaluate_alerts
from ecoute.assessment.phone import Thresholds, evaluate_queue
from ecoute.config.settings import Settings
from ecoute.errors import Conflict, InvalidRequest
from ecoute.store.models import (
    AlertKind,
    Authority,
    BackupActivation,
    BackupCall,
    BackupTeam,
    CallStatus,
    PhoneOverload,
    PhoneQueueState,
    Volunteer,
)
from ecoute.store.phone import list_overloads, queues_with_figures
from ecoute.store.volunteers import (
    activation_of_overload,
    add_activation,
    add_calls,
    close_activation,
    list_teams,
    members,
    team_of_queue,
)

#: Queues with figures this recent are evaluated.
QUEUES_SINCE = timedelta(days=7)
#: An overload whose latest figures are older than this when it is found (an export of
#: past days) is history: nobody is called for it.
STALE_AFTER = timedelta(hours=2)


def available(volunteer: Volunteer, local: datetime) -> bool:
    """Whether ``local`` (the authority's time) falls in one of the volunteer's weekly slots;
    a volunteer without slots is available any time."""
    if not volunteer.active:
        return False
    if not volunteer.availability:
        return True
    now = local.time().replace(tzinfo=None)
    for slot in volunteer.availability:
        start, end = time.fromisoformat(slot["start"]), time.fromisoformat(slot["end"])
        if int(slot["weekday"]) == local.weekday() and start <= now < end:
            return True
    return False


@dataclass
class PhoneChanges:
    opened: list[PhoneOverload] = field(default_factory=list)
    closed: list[PhoneOverload] = field(default_factory=list)
    activated: list[BackupActivation] = field(default_factory=list)
    #: Volunteers called into an activation already open (they became available).
    called: list[BackupCall] = field(default_factory=list)


def _queues(session: Session, authority_id: int, now: datetime) -> list[str]:
    queues = set(queues_with_figures(session, authority_id, now - QUEUES_SINCE))
    queues |= {team.queue for team in list_teams(session, authority_id)}
    queues |= set(session.scalars(select(PhoneQueueState.queue).where(
        PhoneQueueState.authority_id == authority_id, PhoneQueueState.overload_id.is_not(None))))
    return sorted(queues)


def evaluate_phone(session: Session, authority: Authority, settings: Settings,
                   now: datetime) -> PhoneChanges:
    """Run the overload detection on every queue of the authority, then activate and close
    the back-up teams. The caller commits (and then has the calls notified)."""
    changes = PhoneChanges()
    for queue in _queues(session, authority.id, now):
        team = team_of_queue(session, authority.id, queue)
        t = Thresholds.of(settings, team.thresholds if team else None)
        found = evaluate_queue(session, authority.id, queue, t, now)
        changes.opened += found.opened
        changes.closed += found.closed
        for overload in found.closed:
            activation = activation_of_overload(session, overload.id)
            if activation is not None and overload.ended_at is not None:
                close_activation(session, activation, overload.ended_at)
        fresh = found.until is not None and now - found.until <= STALE_AFTER
        if team is None or not fresh:
            continue
        local = now.astimezone(ZoneInfo(authority.timezone))
        called = [v for v in members(session, team.id) if available(v, local)]
        for overload in found.opened:
            if overload.ended_at is not None:
                continue  # over before this evaluation saw it: nobody to call any more
            changes.activated.append(add_activation(session, team, overload.id,
                                                    overload.started_at, called))
        _call_late(session, authority.id, team, queue, called, now, changes)
    if changes.opened or changes.closed:
        # The alert follows the detection at once rather than at the nightly evaluation.
        evaluate_alerts(session, authority, settings, now=now, kinds=[AlertKind.PHONE_OVERLOAD])
    return changes


def _call_late(session: Session, authority_id: int, team: BackupTeam, queue: str,
               called: list[Volunteer], now: datetime, changes: PhoneChanges) -> None:
    """An overload that goes on is not waited out: a team created after it started is
    activated now, and volunteers who became available (added to the team, reactivated, or
    within their slot) are called into the open activation."""
    current = session.scalar(select(PhoneOverload).join(
        PhoneQueueState, PhoneQueueState.overload_id == PhoneOverload.id).where(
        PhoneQueueState.authority_id == authority_id, PhoneQueueState.queue == queue))
    if current is None or current.ended_at is not None:
        return
    activation = activation_of_overload(session, current.id)
    if activation is None:
        # The team did not exist (or had another queue) when the overload started: its help
        # starts now, so that its hours and effect are not counted from before it existed.
        changes.activated.append(add_activation(session, team, current.id,
                                                max(now, current.started_at), called))
    elif activation.team_id == team.id and activation.ended_at is None:
        changes.called += add_calls(session, activation, called)


def answer_call(session: Session, call: BackupCall, *, accept: bool, now: datetime) -> None:
    """A volunteer's answer to the notification. Accepting starts their hours (from the
    activation's start if they answer late, from now otherwise); an activation that is over
    can no longer be accepted; answering twice the same way changes nothing."""
    activation = session.get(BackupActivation, call.activation_id)
    assert activation is not None
    wanted = CallStatus.ACCEPTED if accept else CallStatus.DECLINED
    if call.status == wanted:
        return
    if accept and activation.ended_at is not None:
        raise Conflict("this overload is over: the back-up team is no longer needed",
                       hint="thank you; nothing more to do")
    if call.status == CallStatus.ACCEPTED and call.ended_at is not None:
        raise Conflict("this call is over and its hours are counted",
                       hint="ask a quality officer to correct your hours")
    call.status, call.answered_at = wanted, now
    if accept:
        call.started_at, call.ended_at = max(now, activation.started_at), None
    else:
        call.started_at = call.ended_at = None


def declare_minutes(call: BackupCall, minutes: int | None) -> None:
    """Hours declared for a call (they replace the accepted start and end), or None to count
    from the start and end again."""
    if minutes is not None and not 0 <= minutes <= 24 * 60:
        raise InvalidRequest(f"{minutes} minutes is not a duration of one call",
                             hint="give the minutes spent on this activation, 0 to 1440")
    if minutes is not None and call.status != CallStatus.ACCEPTED:
        call.status = CallStatus.ACCEPTED  # helped without answering the e-mail
    call.declared_minutes = minutes


@dataclass(frozen=True)
class TeamStatus:
    """A back-up team as the dashboard shows it (``overloaded_since`` in the authority's
    time)."""

    name: str
    queue: str
    volunteers: int
    available: int
    overloaded_since: datetime | None


def team_statuses(session: Session, authority: Authority, now: datetime) -> list[TeamStatus]:
    local = now.astimezone(ZoneInfo(authority.timezone))
    since = {o.queue: o.started_at.astimezone(local.tzinfo)
             for o in list_overloads(session, authority.id, active=True)}
    out = []
    for team in list_teams(session, authority.id):
        people = members(session, team.id)
        out.append(TeamStatus(name=team.name, queue=team.queue, volunteers=len(people),
                              available=sum(available(v, local) for v in people),
                              overloaded_since=since.get(team.queue)))
    return out
