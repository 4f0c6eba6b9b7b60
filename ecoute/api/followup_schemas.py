"""Schemas of routing rules, follow-ups and department summaries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from ecoute.api.schemas import DETERMINANT_ENUM, MAX_ID, Figure
from ecoute.assessment.followups import FollowupView, Responsiveness
from ecoute.assessment.satisfaction import DeterminantFigure
from ecoute.domain import Channel
from ecoute.store.models import FollowupEvent

PolarityIn = Literal["positive", "negative", "neutral"]
StatusIn = Literal["new", "assigned", "answered", "closed", "dismissed"]
EXCERPT_CHARS = 300


class RuleCriteriaIn(BaseModel):
    """What a rule matches: every criterion given must hold; null or absent matches any."""

    source_id: int | None = Field(None, ge=1, le=MAX_ID, description="Items of this source")
    channel: Channel | None = Field(None, description="Items of this channel")
    site_id: int | None = Field(None, ge=1, le=MAX_ID, description="Items of this site")
    determinant: str | None = Field(None, json_schema_extra=DETERMINANT_ENUM,
                                    description="Items talking about this determinant")
    polarity: PolarityIn | None = Field(
        None, description="With `determinant`: its polarity in the item; alone: the item's "
        "sentiment")
    lang: str | None = Field(None, min_length=2, max_length=16,
                             description="Language code, e.g. `fr`")
    keyword: str | None = Field(
        None, min_length=1, max_length=400,
        description="Words or phrases separated by commas, any of which must appear as whole "
        "words in the title or text (case and accents ignored)")
    category: str | None = Field(
        None, min_length=1, max_length=200,
        description="The item's `extra` category, service_code or service_name (case and "
        "accents ignored)")


class RoutingRuleIn(RuleCriteriaIn):
    department: str = Field(min_length=1, max_length=200,
                            description="Department name; created when new")
    position: int | None = Field(None, ge=1, le=100_000,
                                 description="1 is tried first; default: after the others")


class RoutingRulePatch(RuleCriteriaIn):
    """Absent fields stay as they are; a criterion sent as null no longer applies."""

    department: str | None = Field(None, min_length=1, max_length=200)
    position: int | None = Field(None, ge=1, le=100_000)


class RoutingRuleOut(BaseModel):
    id: int
    position: int
    department_id: int
    department: str
    source_id: int | None
    channel: str | None
    site_id: int | None
    determinant: str | None
    polarity: str | None
    lang: str | None
    keyword: str | None
    category: str | None
    created_at: datetime
    created_by: str | None


class RoutingRulesOut(BaseModel):
    rules: list[RoutingRuleOut] = Field(description="In the order they are tried")
    default_department: str | None = Field(
        description="Where items no rule matches go (setting)")
    response_promise_working_days: int


class FollowupEventOut(BaseModel):
    at: datetime
    actor: str = Field(description="The API key (prefix and label) or `routing rules`")
    action: str = Field(description="opened, status, assignee, due, department or note")
    old_value: str | None
    new_value: str | None
    note: str | None


class FollowupOut(BaseModel):
    item_id: int
    status: str = Field(description="new, assigned, answered, closed or dismissed")
    assignee: str | None
    department_id: int | None
    department: str | None
    channel: str
    title: str | None
    excerpt: str = Field(description="The start of the item's text")
    received_at: datetime
    promise_days: int
    due_on: date = Field(description="Set by an officer, else the promise in working days")
    due_set_by_officer: bool
    overdue: bool
    opened_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
    dismissed_reason: str | None
    days_to_answer: int | None = Field(description="Working days to the first answer")
    answered_in_time: bool | None
    events: list[FollowupEventOut] | None = Field(
        None, description="Its history, oldest first (with one follow-up only)")


class FollowupPage(BaseModel):
    followups: list[FollowupOut]
    total: int = Field(description="Follow-ups matching, beyond `limit` included")


class FollowupChange(BaseModel):
    """What to change; absent fields stay as they are."""

    status: StatusIn | None = Field(
        None, description="new → assigned → answered → closed, or dismissed (with a reason); "
        "answered, closed and dismissed ones are reopened as assigned")
    assignee: str | None = Field(None, max_length=200,
                                 description="Who acts; naming one assigns a new follow-up")
    due_on: date | None = Field(None, description="Another due date; null: the promise's")
    department_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Move the item to this department (kept by later "
        "routing runs)")
    reason: str | None = Field(None, max_length=2000,
                               description="Why (needed to dismiss); recorded with the change")


class NoteIn(BaseModel):
    note: str = Field(min_length=1, max_length=10_000)


class ResponsivenessOut(BaseModel):
    received: int
    answered: int
    closed: int
    dismissed: int
    open: int
    overdue: int
    due: int = Field(description="Answered, or unanswered past their due date (not dismissed)")
    within_promise: int = Field(description="Of `due`, answered by their due date")
    share_within_promise: float | None
    ci_low: float | None = Field(description="Wilson 95 % interval of the share, lower bound")
    ci_high: float | None
    median_days_to_answer: float | None = Field(description="In working days")
    mean_days_to_answer: float | None


class DepartmentOut(BaseModel):
    id: int
    name: str
    open: int = Field(description="Follow-ups new or assigned")
    overdue: int


class Beside(BaseModel):
    """A department's figure and the whole authority's."""

    department: Figure
    authority: Figure


class ResponsivenessBeside(BaseModel):
    department: ResponsivenessOut
    authority: ResponsivenessOut


class DepartmentSummary(BaseModel):
    department: DepartmentOut
    window: str
    start: date
    end: date
    open_followups: list[FollowupOut] = Field(
        description="Open follow-ups, overdue first then by due date (at most `limit`)")
    overall: Beside
    determinants: list[Beside]
    responsiveness: ResponsivenessBeside = Field(
        description="Follow-ups received in the window")


def followup_out(view: FollowupView, departments: dict[int, str],
                 events: list[FollowupEvent] | None = None) -> FollowupOut:
    f, item = view.followup, view.item
    text = " ".join(item.text.split())
    return FollowupOut(
        item_id=item.id, status=f.status, assignee=f.assignee,
        department_id=item.department_id,
        department=departments.get(item.department_id) if item.department_id else None,
        channel=item.channel, title=item.title,
        excerpt=text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1] + "…",
        received_at=f.received_at, promise_days=f.promise_days, due_on=view.due,
        due_set_by_officer=f.due_on is not None, overdue=view.overdue, opened_at=f.opened_at,
        answered_at=f.answered_at, closed_at=f.closed_at, dismissed_reason=f.dismissed_reason,
        days_to_answer=view.days_to_answer, answered_in_time=view.answered_in_time,
        events=None if events is None else [
            FollowupEventOut.model_validate(e, from_attributes=True) for e in events],
    )


def responsiveness_out(r: Responsiveness) -> ResponsivenessOut:
    return ResponsivenessOut(
        received=r.received, answered=r.answered, closed=r.closed, dismissed=r.dismissed,
        open=r.open, overdue=r.overdue, due=r.due, within_promise=r.within_promise,
        share_within_promise=r.share_within_promise,
        ci_low=r.interval.low if r.interval else None,
        ci_high=r.interval.high if r.interval else None,
        median_days_to_answer=r.median_days_to_answer, mean_days_to_answer=r.mean_days_to_answer,
    )


def figure_out(f: DeterminantFigure) -> Figure:
    return Figure(
        determinant=f.determinant, positive=f.positive, negative=f.negative, neutral=f.neutral,
        n=f.n, share_positive=f.share_positive,
        ci_low=f.interval.low if f.interval else None,
        ci_high=f.interval.high if f.interval else None,
        net_score=f.net_score, sufficient=f.sufficient,
    )
