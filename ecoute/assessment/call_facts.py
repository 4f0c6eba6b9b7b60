"""Phone figures as facts beside what people write: the share of calls answered and the
abandon rate next to the mentions of accessibility, the average wait and the service level
next to those of waiting time, over the same days.

They are measured, not said: they are shown beside a determinant's mentions and never added to
its positive share, its interval or its n (a call answered is not a satisfied citizen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ecoute.assessment.calls import CallFigures, figures_of
from ecoute.assessment.windows import utc_bounds
from ecoute.domain import Determinant
from ecoute.store.call_stats import call_departments, call_sums
from ecoute.store.models import Authority

#: The determinants the phone figures speak of, and which figures for each.
FACTS: dict[str, tuple[str, ...]] = {
    Determinant.ACCESSIBILITY.value: ("answer_rate", "abandon_rate"),
    Determinant.WAITING_TIME.value: ("avg_wait_seconds", "service_level"),
}


@dataclass(frozen=True)
class CallFacts:
    """The phone figures of the intervals starting in [``start``, ``end``) (UTC)."""

    start: datetime
    end: datetime
    calls: CallFigures

    def of(self, determinant: str) -> dict[str, float | None] | None:
        """The facts of ``determinant`` (None for a determinant calls say nothing of)."""
        names = FACTS.get(determinant)
        if names is None:
            return None
        return {name: getattr(self.calls, name) for name in names}


def call_facts(session: Session, authority: Authority, first: date, last: date, *,
               department_id: int | None = None, site_id: int | None = None,
               source_id: int | None = None) -> CallFacts | None:
    """The authority's phone figures over its local days ``first`` to ``last``, of one
    department, site or source when given; None when no interval was recorded (no phone
    figures is not a phone with no calls)."""
    start, end = utc_bounds(first, last, ZoneInfo(authority.timezone))
    sums = call_sums(session, authority.id, start, end, department_id=department_id,
                     site_id=site_id, source_id=source_id)
    if not sums.intervals:
        return None
    return CallFacts(start=start, end=end, calls=figures_of(sums))


def facts_by_department(session: Session, authority: Authority, first: date, last: date
                        ) -> dict[int, CallFacts]:
    """The phone figures of each department whose queues have figures over those days."""
    start, end = utc_bounds(first, last, ZoneInfo(authority.timezone))
    found = {}
    for department_id in call_departments(session, authority.id, start, end):
        facts = call_facts(session, authority, first, last, department_id=department_id)
        if facts is not None:
            found[department_id] = facts
    return found
