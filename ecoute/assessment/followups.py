"""Follow-ups as figures: due dates in working days, what is overdue, and how fast and how
often the authority answers within its promise.

:func:`responsiveness` is the one place answer and close dates become figures, so that the
responsiveness and complaints-management determinants can show them beside what people write.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ecoute.assessment.satisfaction import authority_today
from ecoute.assessment.statistics import Interval, wilson_interval
from ecoute.assessment.working_days import WorkingCalendar
from ecoute.config.settings import Settings
from ecoute.store.followups import OPEN, list_followups
from ecoute.store.models import Authority, Followup, FollowupStatus, Item


def calendar_of(settings: Settings) -> WorkingCalendar:
    return WorkingCalendar(settings.public_holidays, settings.extra_holidays)


def local_day(when: datetime, zone: ZoneInfo) -> date:
    return when.astimezone(zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day begins."""
    return datetime.combine(day, time(), zone).astimezone(timezone.utc)


def due_date(followup: Followup, zone: ZoneInfo, calendar: WorkingCalendar) -> date:
    """The date set by an officer, else ``promise_days`` working days after the day the
    item was received."""
    if followup.due_on is not None:
        return followup.due_on
    return calendar.add_working_days(local_day(followup.received_at, zone),
                                     followup.promise_days)


@dataclass(frozen=True)
class FollowupView:
    followup: Followup
    item: Item
    due: date
    overdue: bool
    #: Working days from reception to the first answer (None while unanswered).
    days_to_answer: int | None
    answered_in_time: bool | None


def view(followup: Followup, item: Item, zone: ZoneInfo, calendar: WorkingCalendar,
         today: date) -> FollowupView:
    due = due_date(followup, zone, calendar)
    answered = local_day(followup.answered_at, zone) if followup.answered_at else None
    return FollowupView(
        followup=followup, item=item, due=due,
        overdue=followup.status in OPEN and today > due,
        days_to_answer=int(calendar.working_days_between(
            [local_day(followup.received_at, zone)], [answered])[0]) if answered else None,
        answered_in_time=(answered <= due) if answered else None,
    )


def followup_views(
    session: Session, authority: Authority, settings: Settings, *,
    department_id: int | None = None, statuses: Sequence[str] | None = None,
    overdue: bool | None = None, received_from: date | None = None,
    received_to: date | None = None, today: date | None = None,
) -> list[FollowupView]:
    """An authority's follow-ups with due dates, oldest received first; ``overdue`` keeps
    only the overdue ones (True) or the others (False). Dates are the authority's local days,
    ``received_to`` included."""
    zone = ZoneInfo(authority.timezone)
    calendar = calendar_of(settings)
    today = today or authority_today(authority)
    if overdue:  # only open ones can be: the others need no due date computed
        statuses = [s for s in (statuses or OPEN) if s in OPEN]
        if not statuses:
            return []
    rows = list_followups(
        session, authority.id, department_id=department_id, statuses=statuses,
        received_since=day_start(received_from, zone) if received_from else None,
        received_until=day_start(date.fromordinal(received_to.toordinal() + 1), zone)
        if received_to else None)
    views = [view(f, i, zone, calendar, today) for f, i in rows]
    if overdue is not None:
        views = [v for v in views if v.overdue == overdue]
    return views


@dataclass(frozen=True)
class Responsiveness:
    """What was done about the follow-ups received in a period."""

    received: int
    answered: int
    closed: int
    dismissed: int
    open: int
    overdue: int
    #: Answered on or before the due date, among those answered or past their due date
    #: (dismissed ones aside): an unanswered follow-up past its due date is a promise missed.
    within_promise: int
    due: int
    share_within_promise: float | None
    interval: Interval | None
    median_days_to_answer: float | None
    mean_days_to_answer: float | None


def summarise(views: Sequence[FollowupView], today: date) -> Responsiveness:
    status = [v.followup.status for v in views]
    answered = [v for v in views if v.days_to_answer is not None]
    due = [v for v in views if v.followup.status != FollowupStatus.DISMISSED
           and (v.days_to_answer is not None or v.due < today)]
    within = sum(1 for v in due if v.answered_in_time)
    days = [v.days_to_answer for v in answered if v.days_to_answer is not None]
    return Responsiveness(
        received=len(views), answered=len(answered),
        closed=status.count(FollowupStatus.CLOSED),
        dismissed=status.count(FollowupStatus.DISMISSED),
        open=sum(1 for s in status if s in OPEN),
        overdue=sum(1 for v in views if v.overdue),
        within_promise=within, due=len(due),
        share_within_promise=within / len(due) if due else None,
        interval=wilson_interval(within, len(due)),
        median_days_to_answer=float(statistics.median(days)) if days else None,
        mean_days_to_answer=statistics.fmean(days) if days else None,
    )


def responsiveness(
    session: Session, authority: Authority, settings: Settings, *, start: date, end: date,
    department_id: int | None = None, today: date | None = None,
) -> Responsiveness:
    """Time to answer and share answered within the promise, for the follow-ups received
    from ``start`` to ``end`` (local days, both included)."""
    today = today or authority_today(authority)
    return summarise(followup_views(session, authority, settings, department_id=department_id,
                                    received_from=start, received_to=end, today=today), today)
