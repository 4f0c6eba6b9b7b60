"""Phone queues: figures pushed live by a phone system (ingest keys), each queue's figures and
intervals, the overloads found and the measured effect of the back-up team (reading keys)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body, Query, Request

from ecoute.api.deps import (
    AuthorityDep,
    AuthorityQuery,
    IngestKey,
    SessionDep,
    SettingsDep,
    WriterSessionDep,
    scoped_authority,
)
from ecoute.api.phone_schemas import (
    CallFiguresOut,
    EffectOut,
    IntervalOut,
    OverloadGroupOut,
    OverloadOut,
    PhoneIntervalIn,
    PhonePushOut,
    QueueOut,
    QueuesOut,
    checked_period,
)
from ecoute.api.schemas import COMMON_ERRORS, error_responses
from ecoute.assessment.backup_effect import backup_effect
from ecoute.assessment.backup_team import evaluate_phone
from ecoute.assessment.calls import call_stats
from ecoute.digest.backup_notices import notify_pending_calls
from ecoute.digest.backup_webhook import notifier_for
from ecoute.store.models import utcnow
from ecoute.store.phone import (
    list_overloads,
    queue_intervals,
    queues_with_figures,
    write_pushed_intervals,
)
from ecoute.store.volunteers import activation_of_overload, team_of_queue

router = APIRouter(tags=["phone"], responses=COMMON_ERRORS)
MAX_INTERVALS = 2000
Since = Annotated[datetime | None, Query(description="From (default: see each endpoint)")]
Until = Annotated[datetime | None, Query(description="Until (default: now)")]


@router.post("/phone/stats", response_model=PhonePushOut,
             responses=error_responses(404, 413))
def post_phone_stats(
    request: Request, background: BackgroundTasks, session: WriterSessionDep,
    settings: SettingsDep, key: IngestKey,
    intervals: Annotated[list[PhoneIntervalIn], Body(min_length=1, max_length=MAX_INTERVALS)],
    authority: AuthorityQuery = None,
) -> PhonePushOut:
    """Figures of phone queues, per interval, as the phone system has them (ingest or admin
    keys). A repeated interval replaces the one stored. The overload detection runs at once;
    volunteers called in are notified right after the answer."""
    owner = scoped_authority(session, settings, key, authority)
    rows = [i.model_dump() for i in intervals]
    changes = write_pushed_intervals(session, owner.id, key.prefix, rows)
    found = evaluate_phone(session, owner, settings, utcnow())
    if found.activated or found.called:
        # Committed here, not at the end of the request: the notices are sent from sessions
        # of their own once the answer is out, and their links must find the calls.
        session.commit()
        background.add_task(notify_pending_calls, request.app.state.writer_factory, settings,
                            notifier_for(settings))
    return PhonePushOut(received=len(rows), new=len(changes.new), updated=len(changes.changed),
                        duplicate=changes.duplicate,
                        overloads_started=[o.queue for o in found.opened if o.ended_at is None],
                        overloads_ended=[o.queue for o in found.closed])


@router.get("/phone/queues", response_model=QueuesOut)
def get_phone_queues(
    session: SessionDep, authority: AuthorityDep, since: Since = None, until: Until = None,
    intervals: Annotated[bool, Query(description="Also list each interval")] = False,
) -> QueuesOut:
    """Each phone queue's figures over the period (default: the last 24 hours), whether it is
    overloaded now, and what the figures say of waiting time and accessibility."""
    start, end = checked_period(since, until, timedelta(days=1), utcnow(),
                                authority.timezone)
    open_since = {o.queue: o.started_at for o in list_overloads(session, authority.id,
                                                                 active=True)}
    queues = []
    for queue in queues_with_figures(session, authority.id, start):
        figures = call_stats(session, authority.id, start, end, queue=queue)
        if not figures.intervals:
            continue
        team = team_of_queue(session, authority.id, queue)
        listed = [IntervalOut(start=i.start, minutes=i.minutes, offered=i.offered,
                              answered=i.answered, abandoned=i.abandoned,
                              avg_wait_seconds=i.wait_sum / i.wait_weight if i.wait_weight
                              else None,
                              service_level=i.level_sum / i.level_weight if i.level_weight
                              else None, waiting=i.waiting)
                  for i in queue_intervals(session, authority.id, queue, start, end)
                  ] if intervals else None
        queues.append(QueueOut(
            queue=queue, figures=CallFiguresOut.of(figures),
            facts={"waiting_time": figures.avg_wait_seconds,
                   "accessibility": figures.answer_rate},
            overloaded_since=open_since.get(queue), team_id=team.id if team else None,
            intervals=listed))
    return QueuesOut(start=start, end=end, queues=queues)


@router.get("/phone/overloads", response_model=list[OverloadOut])
def get_phone_overloads(
    session: SessionDep, authority: AuthorityDep, since: Since = None, until: Until = None,
    queue: Annotated[str | None, Query(max_length=200)] = None,
) -> list[OverloadOut]:
    """The overloads found over the period (default: the last 30 days), still open or not."""
    start, end = checked_period(since, until, timedelta(days=30), utcnow(),
                                authority.timezone)
    out = []
    for o in list_overloads(session, authority.id, queue=queue, since=start, until=end):
        activation = activation_of_overload(session, o.id)
        out.append(OverloadOut(id=o.id, queue=o.queue, started_at=o.started_at,
                               calm_since=o.calm_since, ended_at=o.ended_at,
                               trigger=o.trigger.get("figures", {}),
                               activation_id=activation.id if activation else None))
    return out


@router.get("/phone/effect", response_model=EffectOut)
def get_phone_effect(
    session: SessionDep, authority: AuthorityDep, since: Since = None, until: Until = None,
    queue: Annotated[str | None, Query(max_length=200)] = None,
) -> EffectOut:
    """Waiting time and abandonment during the overloads a volunteer helped with, against the
    overloads nobody helped with, started over the period (default: the last 90 days)."""
    start, end = checked_period(since, until, timedelta(days=90), utcnow(),
                                authority.timezone)
    effect = backup_effect(session, authority.id, start, end, utcnow(), queue)
    return EffectOut(since=start, until=end, helped=OverloadGroupOut.of(effect.helped),
                     alone=OverloadGroupOut.of(effect.alone),
                     abandon_rate_difference=effect.abandon_rate_difference,
                     avg_wait_difference_seconds=effect.avg_wait_difference_seconds)
