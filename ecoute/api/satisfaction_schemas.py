"""Response schemas of the satisfaction figures, their comparisons, groups and series."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from ecoute.api.schemas import Figure
from ecoute.assessment.call_facts import CallFacts
from ecoute.assessment.comparisons import Change, ComparedReport
from ecoute.assessment.satisfaction import DeterminantFigure, GroupFigure
from ecoute.assessment.series import Bucket


class ChangeOut(BaseModel):
    """The same figure over an earlier window, and whether the change is real."""

    start: date
    end: date
    positive: int
    negative: int
    n: int
    share_positive: float | None
    difference: float | None = Field(description="share positive now minus then")
    p_value: float | None = Field(description="two-sided two-proportion test of the change "
                                  "(null when either n is 0)")
    significant: bool = Field(description="p < 0.05 and both n reach the minimum sample size")


class CallFactsOut(BaseModel):
    """Measured by the phone system over the same days: facts beside the mentions, never
    counted in their share, interval or n."""

    source: str = Field("phone_calls", description="where the facts come from")
    start: datetime = Field(description="first instant of the intervals counted (UTC)")
    end: datetime = Field(description="end of the intervals counted (UTC, excluded)")
    intervals: int
    calls_offered: int
    figures: dict[str, float | None] = Field(
        description="accessibility: `answer_rate` and `abandon_rate` (shares of calls "
        "offered); waiting_time: `avg_wait_seconds` (weighted by calls answered) and "
        "`service_level` (share answered within the phone system's time); null when nothing "
        "to divide by")


class ComparedFigure(Figure):
    facts: CallFactsOut | None = Field(
        None, description="accessibility and waiting time only: the phone figures of the "
        "same window, when phone figures were collected (not mentions)")
    previous: ChangeOut = Field(description="against the window just before (the whole "
                                "previous period for a calendar one)")
    year_before: ChangeOut | None = Field(description="against the same window a year "
                                          "earlier; null when it holds no mention")


class Group(BaseModel):
    value: str = Field(description="the channel, the site's, department's or source's id "
                       "(0: none), or the language code (\"\": unknown)")
    label: str = Field(description="the site's, department's or source's name")
    rank: int | None = Field(description="1 for the highest share positive; null when the "
                             "group has fewer mentions than the minimum sample size")
    figure: Figure


class Satisfaction(BaseModel):
    authority: str
    window: str
    start: date
    end: date
    min_sample_size: int
    overall: ComparedFigure
    determinants: list[ComparedFigure]
    rating_mean: float | None
    rating_count: int
    group_by: str | None = None
    groups: list[Group] | None = Field(None, description="with group_by: one figure (of "
                                       "`determinant`, the overall sentiment by default) per "
                                       "group, ranked first")


class Point(BaseModel):
    start: date
    end: date
    figure: Figure


class Timeseries(BaseModel):
    authority: str
    determinant: str
    granularity: str
    start: date
    end: date
    min_sample_size: int
    points: list[Point]


def figure_out(f: DeterminantFigure) -> Figure:
    return Figure(
        determinant=f.determinant, positive=f.positive, negative=f.negative, neutral=f.neutral,
        n=f.n, share_positive=f.share_positive,
        ci_low=f.interval.low if f.interval else None,
        ci_high=f.interval.high if f.interval else None,
        net_score=f.net_score, sufficient=f.sufficient,
    )


def change_out(c: Change) -> ChangeOut:
    return ChangeOut(start=c.window.start, end=c.window.end, positive=c.before.positive,
                     negative=c.before.negative, n=c.before.n,
                     share_positive=c.before.share_positive, difference=c.difference,
                     p_value=c.p_value, significant=c.significant)


def facts_out(facts: CallFacts | None, determinant: str | None) -> CallFactsOut | None:
    figures = facts.of(determinant) if facts is not None and determinant else None
    if facts is None or figures is None:
        return None
    return CallFactsOut(start=facts.start, end=facts.end, intervals=facts.calls.intervals,
                        calls_offered=facts.calls.offered, figures=figures)


def compared_out(report: ComparedReport, determinant: str | None,
                 facts: CallFacts | None = None) -> ComparedFigure:
    previous, year_before = report.changes(determinant)
    return ComparedFigure(**figure_out(report.report.figure(determinant)).model_dump(),
                          facts=facts_out(facts, determinant),
                          previous=change_out(previous),
                          year_before=change_out(year_before) if year_before else None)


def group_out(g: GroupFigure) -> Group:
    return Group(value=g.value, label=g.label, rank=g.rank, figure=figure_out(g.figure))


def point_out(b: Bucket) -> Point:
    return Point(start=b.start, end=b.end, figure=figure_out(b.figure))
