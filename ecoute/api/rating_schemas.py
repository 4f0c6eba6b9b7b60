"""Schemas of the rating figures: mean normalised rating, CSAT share and Net Promoter Score per
rating scale, beside the previous window."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from ecoute.assessment.ratings import RatingChange, RatingFigure, RatingsReport


class MeanRatingOut(BaseModel):
    n: int = Field(description="Answers with a normalised value")
    mean: float | None = Field(description="Mean answer mapped to 0..1 on its scale")
    ci_low: float | None = Field(description="Student's t 95 % interval, lower bound")
    ci_high: float | None = Field(description="Student's t 95 % interval, upper bound")


class CsatOut(BaseModel):
    satisfied: int = Field(description="Satisfied answers: the top answer of yes/no, the top "
                           "two of scales of 3 to 11 answers (4-5 of 1-5, 6-7 of 1-7, 9-10 of "
                           "0-10), the top fifth of longer ones (16-20 of 0-20)")
    n: int
    share: float | None = Field(description="satisfied / n")
    ci_low: float | None = Field(description="Wilson 95 % interval, lower bound")
    ci_high: float | None = Field(description="Wilson 95 % interval, upper bound")


class NpsOut(BaseModel):
    promoters: int = Field(description="Answers 9 and 10")
    passives: int = Field(description="Answers 7 and 8")
    detractors: int = Field(description="Answers 0 to 6")
    n: int
    score: float | None = Field(description="% promoters − % detractors, −100..100")
    ci_low: float | None = Field(description="95 % interval in points, lower bound (variance "
                                 "(p+ + p− − (p+ − p−)²) / n)")
    ci_high: float | None = Field(description="95 % interval in points, upper bound")


class RatingFigureOut(BaseModel):
    n: int = Field(description="Rated answers")
    sufficient: bool = Field(description="n reaches the minimum sample size")
    mean: MeanRatingOut
    csat: CsatOut
    nps: NpsOut | None = Field(description="0-10 answers only (NPS questions are stored on "
                               "that scale)")


class RatingScaleOut(BaseModel):
    scale: str = Field(description="`1-5`, `0-10`, `yes/no`...; `all` for every scale at once")
    current: RatingFigureOut
    previous: RatingFigureOut = Field(description="The same number of days before")
    mean_change: float | None = Field(description="Mean now minus before (0..1 scale)")
    csat_change: float | None = Field(description="CSAT share now minus before")
    nps_change: float | None = Field(description="NPS now minus before, in points")


class Ratings(BaseModel):
    authority: str
    window: str
    start: date
    end: date
    previous_start: date
    previous_end: date
    min_sample_size: int
    overall: RatingScaleOut = Field(description="Every scale at once (mean and CSAT)")
    scales: list[RatingScaleOut]


def _figure(f: RatingFigure) -> RatingFigureOut:
    mean, csat = f.mean, f.csat
    nps = None
    if f.nps is not None:
        nps = NpsOut(promoters=f.nps.promoters, passives=f.nps.passives,
                     detractors=f.nps.detractors, n=f.nps.n, score=f.nps.score,
                     ci_low=f.nps.interval.low if f.nps.interval else None,
                     ci_high=f.nps.interval.high if f.nps.interval else None)
    return RatingFigureOut(
        n=f.n, sufficient=f.sufficient,
        mean=MeanRatingOut(n=mean.n, mean=mean.mean,
                           ci_low=mean.interval.low if mean.interval else None,
                           ci_high=mean.interval.high if mean.interval else None),
        csat=CsatOut(satisfied=csat.satisfied, n=csat.n, share=csat.share,
                     ci_low=csat.interval.low if csat.interval else None,
                     ci_high=csat.interval.high if csat.interval else None),
        nps=nps,
    )


def _scale(change: RatingChange) -> RatingScaleOut:
    return RatingScaleOut(scale=change.now.scale, current=_figure(change.now),
                          previous=_figure(change.before), mean_change=change.mean_change,
                          csat_change=change.csat_change, nps_change=change.nps_change)


def ratings_out(authority: str, window: str, report: RatingsReport) -> Ratings:
    return Ratings(
        authority=authority, window=window, start=report.window.start, end=report.window.end,
        previous_start=report.previous.start, previous_end=report.previous.end,
        min_sample_size=report.min_sample_size, overall=_scale(report.overall),
        scales=[_scale(c) for c in report.scales],
    )
