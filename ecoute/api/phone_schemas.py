"""Schemas of phone queues, overloads, back-up teams, volunteers and their hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from ecoute.assessment.backup_effect import OverloadGroup
from ecoute.assessment.calls import CallFigures
from ecoute.errors import InvalidRequest

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$"
#: Phone figures and overloads are judged between these years; outside is a typing error.
FIRST_YEAR, LAST_YEAR = 1970, 2200


def checked_period(since: datetime | None, until: datetime | None, default: timedelta,
                   now: datetime, tz: str) -> tuple[datetime, datetime]:
    """``since`` and ``until`` as UTC instants (a date-time without offset is read in the
    authority's time zone), ``until`` defaulting to now and ``since`` to ``default`` before."""
    def instant(value: datetime, name: str) -> datetime:
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise InvalidRequest(f"{name} is out of the range of dates",
                                 hint=f"use a date between {FIRST_YEAR} and {LAST_YEAR}")
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(tz))
        return value.astimezone(timezone.utc)

    end = instant(until, "until") if until is not None else now
    start = instant(since, "since") if since is not None else end - default
    if start >= end:
        raise InvalidRequest("the period ends before it starts", hint="swap since and until")
    return start, end


class PhoneIntervalIn(BaseModel):
    """A queue's figures over one interval, as a phone system pushes them."""

    queue: str = Field(min_length=1, max_length=200, description="Name of the phone queue")
    interval_start: AwareDatetime = Field(description="Start of the interval, with its offset")
    interval_minutes: int = Field(15, ge=1, le=1440, description="Length of the interval")
    offered: int = Field(ge=0, le=1_000_000, description="Calls offered")
    answered: int = Field(ge=0, le=1_000_000, description="Calls answered")
    abandoned: int = Field(0, ge=0, le=1_000_000, description="Calls abandoned")
    avg_wait_seconds: float | None = Field(None, ge=0, le=86_400,
                                           description="Average wait of the answered calls")
    max_wait_seconds: float | None = Field(None, ge=0, le=86_400)
    service_level: float | None = Field(None, ge=0, le=1,
                                        description="Share answered within the service time")
    service_level_seconds: int | None = Field(None, ge=1, le=3600)
    agents: float | None = Field(None, ge=0, le=100_000)
    waiting: int | None = Field(None, ge=0, le=100_000,
                                description="Calls waiting at the end of the interval")

    @model_validator(mode="after")
    def _counts_add_up(self) -> PhoneIntervalIn:
        if not FIRST_YEAR <= self.interval_start.year <= LAST_YEAR:
            raise ValueError(f"interval_start must be between {FIRST_YEAR} and {LAST_YEAR}")
        if self.answered + self.abandoned > self.offered:
            raise ValueError("answered + abandoned calls exceed the calls offered")
        return self


class PhonePushOut(BaseModel):
    received: int
    new: int
    updated: int
    duplicate: int
    overloads_started: list[str] = Field(description="Queues whose overload started now")
    overloads_ended: list[str] = Field(description="Queues whose overload ended now")


class CallFiguresOut(BaseModel):
    intervals: int
    offered: int
    answered: int
    abandoned: int
    abandon_rate: float | None
    answer_rate: float | None
    avg_wait_seconds: float | None
    max_wait_seconds: float | None
    service_level: float | None

    @classmethod
    def of(cls, figures: CallFigures) -> CallFiguresOut:
        return cls(**figures.__dict__)


class IntervalOut(BaseModel):
    start: datetime
    minutes: int | None
    offered: int
    answered: int
    abandoned: int
    avg_wait_seconds: float | None
    service_level: float | None
    waiting: int | None


class QueueOut(BaseModel):
    queue: str
    figures: CallFiguresOut
    facts: dict[str, float | None] = Field(
        description="What the figures say of determinants: `waiting_time` (average wait, "
        "seconds) and `accessibility` (share of calls answered)")
    overloaded_since: datetime | None
    team_id: int | None
    intervals: list[IntervalOut] | None = Field(None, description="With `intervals=true`")


class QueuesOut(BaseModel):
    start: datetime
    end: datetime
    queues: list[QueueOut]


class OverloadOut(BaseModel):
    id: int
    queue: str
    started_at: datetime
    calm_since: datetime | None
    ended_at: datetime | None
    trigger: dict[str, float]
    activation_id: int | None


class OverloadGroupOut(BaseModel):
    overloads: int
    minutes: float
    figures: CallFiguresOut

    @classmethod
    def of(cls, group: OverloadGroup) -> OverloadGroupOut:
        return cls(overloads=group.overloads, minutes=group.minutes,
                   figures=CallFiguresOut.of(group.figures))


class EffectOut(BaseModel):
    since: datetime
    until: datetime
    helped: OverloadGroupOut = Field(description="Overloads a volunteer accepted to help with")
    alone: OverloadGroupOut = Field(description="Overloads nobody helped with")
    abandon_rate_difference: float | None = Field(description="helped − alone")
    avg_wait_difference_seconds: float | None = Field(description="helped − alone")


class SlotIn(BaseModel):
    """A weekly slot in the authority's time zone, e.g. Monday 08:30 to 12:00."""

    weekday: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    start: str = Field(pattern=HHMM, description="HH:MM")
    end: str = Field(pattern=HHMM, description="HH:MM, after start")

    @model_validator(mode="after")
    def _ordered(self) -> SlotIn:
        if self.end <= self.start:
            raise ValueError("a slot must end after it starts")
        if self.end == "24:00":
            self.end = "23:59"
        return self


class VolunteerFields(BaseModel):
    phone: str | None = Field(None, max_length=40)
    skills: list[str] = Field(default_factory=list, max_length=50,
                              description="E.g. `état civil`, `urbanisme`, `anglais`")
    availability: list[SlotIn] = Field(default_factory=list, max_length=100,
                                       description="Weekly slots; empty: any time")
    department: str | None = Field(None, min_length=1, max_length=200,
                                   description="Department name; created when new")
    active: bool = True

    @field_validator("skills")
    @classmethod
    def _skills(cls, value: list[str]) -> list[str]:
        return [s.strip()[:100] for s in value if s.strip()]


class VolunteerIn(VolunteerFields):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")


class VolunteerPatch(BaseModel):
    """Absent fields stay as they are."""

    name: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(None, max_length=40)
    skills: list[str] | None = Field(None, max_length=50)
    availability: list[SlotIn] | None = Field(None, max_length=100)
    department: str | None = Field(None, min_length=1, max_length=200)
    active: bool | None = None


class VolunteerOut(BaseModel):
    id: int
    name: str
    email: str
    phone: str | None
    skills: list[str]
    availability: list[dict[str, object]]
    department: str | None
    active: bool
    team_ids: list[int]


class ThresholdsIn(BaseModel):
    """The queue's own overload thresholds; absent ones are the installation's."""

    abandon_rate: float | None = Field(None, gt=0, le=1)
    avg_wait_seconds: float | None = Field(None, gt=0, le=86_400)
    calls_waiting: int | None = Field(None, ge=1, le=100_000)
    service_level: float | None = Field(None, gt=0, le=1)


class TeamIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    queue: str = Field(min_length=1, max_length=200,
                       description="The phone queue, as named in the call statistics")
    department: str | None = Field(None, min_length=1, max_length=200)
    thresholds: ThresholdsIn = Field(default_factory=ThresholdsIn)
    volunteer_ids: list[int] = Field(default_factory=list, max_length=500)


class TeamPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    department: str | None = Field(None, min_length=1, max_length=200)
    thresholds: ThresholdsIn | None = None


class MemberIn(BaseModel):
    volunteer_id: int = Field(ge=1, le=2**63 - 1)


class TeamOut(BaseModel):
    id: int
    name: str
    queue: str
    department: str | None
    thresholds: dict[str, float]
    volunteers: list[VolunteerOut]
    overloaded_since: datetime | None
    activation_id: int | None = Field(description="The open activation, if any")


class CallOut(BaseModel):
    id: int
    volunteer_id: int
    volunteer: str
    status: str
    notified_at: datetime | None
    answered_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    declared_minutes: int | None
    error: str | None


class ActivationOut(BaseModel):
    id: int
    team_id: int
    overload_id: int
    started_at: datetime
    ended_at: datetime | None
    calls: list[CallOut]


class HoursIn(BaseModel):
    minutes: int | None = Field(ge=0, le=1440, description="Minutes spent; null: count from "
                                "the accepted start to the activation's end again")


class VolunteerHoursOut(BaseModel):
    volunteer_id: int
    name: str
    email: str
    department: str | None
    calls: int
    hours: float
    fte: float


class DepartmentHoursOut(BaseModel):
    department: str | None
    volunteers: int
    hours: float
    fte: float


class HoursReportOut(BaseModel):
    month: date
    fte_hours_per_month: float
    volunteers: list[VolunteerHoursOut]
    departments: list[DepartmentHoursOut]
    hours: float
    fte: float
