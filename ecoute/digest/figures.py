"""The figures of a digest, from the assessment layer: per determinant the share positive of
the period with its interval and n, its change against the period before (two-proportion
test, never a change under the minimum n) and the pooled share of the four periods before.

``period_report`` and ``period_alerts`` are the two places that ask for figures of the
assessment (the rollups, the alerts it stored); switching them to richer functions changes
nothing else here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from ecoute.assessment.comparisons import change
from ecoute.assessment.satisfaction import (
    DeterminantFigure,
    SatisfactionReport,
    Window,
    satisfaction,
)
from ecoute.assessment.statistics import Interval
from ecoute.domain import OVERALL
from ecoute.store.alerts import alerts_raised
from ecoute.store.models import Authority

#: Periods pooled into the average a period is set against.
AVERAGE_PERIODS = 4


def period_report(
    session: Session, authority: Authority, start: date, end: date, *, min_sample_size: int,
    department_id: int | None = None, site_id: int | None = None,
) -> SatisfactionReport:
    """Satisfaction per determinant over [start, end] (local days), from the rollups."""
    return satisfaction(session, authority, Window(start, end), min_sample_size=min_sample_size,
                        department_id=department_id, site_id=site_id)


@dataclass(frozen=True)
class AlertLine:
    title: str
    detail: str
    raised_at: datetime


def period_alerts(session: Session, authority: Authority, since: datetime,
                  until: datetime) -> list[AlertLine]:
    """Alerts the assessment raised in [since, until) (``ecoute.assessment.alerts``): their
    title, and the day they were raised with, for those since resolved, the day they were."""
    return [
        AlertLine(title=alert.title,
                  detail=f"{alert.raised_at:%Y-%m-%d}" + (
                      f" → {alert.resolved_at:%Y-%m-%d}" if alert.resolved_at else ""),
                  raised_at=alert.raised_at)
        for alert in alerts_raised(session, authority.id, since, until)
    ]


@dataclass(frozen=True)
class FigureLine:
    determinant: str
    share: float | None
    interval: Interval | None
    n: int
    positive: int
    negative: int
    sufficient: bool
    previous_share: float | None
    previous_n: int
    p_value: float | None
    change: str | None  # "up" or "down" when significant, else None
    average: float | None  # pooled share of the AVERAGE_PERIODS periods before
    average_n: int

    @property
    def delta_points(self) -> float | None:
        if self.share is None or self.previous_share is None:
            return None
        return (self.share - self.previous_share) * 100


def compare(current: DeterminantFigure, before: DeterminantFigure,
            history: DeterminantFigure, min_n: int, before_window: Window) -> FigureLine:
    """One determinant's line: a change is called only when the assessment layer finds it
    significant (both periods reach ``min_n`` and the two-proportion test says so)."""
    compared = change(current, before, before_window)
    # Under the minimum n the digest shows no p-value at all: it would read as a finding.
    p_value = compared.p_value if current.n >= min_n and before.n >= min_n else None
    direction = None
    if compared.significant and compared.difference:
        direction = "up" if compared.difference > 0 else "down"
    return FigureLine(
        determinant=current.determinant, share=current.share_positive,
        interval=current.interval, n=current.n, positive=current.positive,
        negative=current.negative, sufficient=current.sufficient,
        previous_share=before.share_positive, previous_n=before.n, p_value=p_value,
        change=direction,
        average=history.share_positive if history.n >= min_n else None, average_n=history.n,
    )


def figure_lines(current: SatisfactionReport, before: SatisfactionReport,
                 history: SatisfactionReport) -> tuple[FigureLine, list[FigureLine]]:
    """The overall line and one line per determinant, in the order of the determinants."""
    min_n = current.min_sample_size
    before_by = {f.determinant: f for f in before.determinants}
    history_by = {f.determinant: f for f in history.determinants}
    lines = [compare(f, before_by[f.determinant], history_by[f.determinant], min_n,
                     before.window) for f in current.determinants]
    overall = compare(current.overall, before.overall, history.overall, min_n, before.window)
    assert overall.determinant == OVERALL
    return overall, lines
