"""Whether a figure changed: against the window before and the same window a year earlier.

A change is ``significant`` only when the two-proportion test says so (p below
:data:`SIGNIFICANCE`) and both figures rest on at least the minimum number of mentions: a jump
from 2 of 3 to 0 of 2 is never announced as real.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ecoute.assessment.satisfaction import (
    DeterminantFigure,
    Filters,
    SatisfactionReport,
    reports,
)
from ecoute.assessment.statistics import two_proportion_p_value
from ecoute.assessment.windows import Window, previous_window, year_before
from ecoute.store.models import Authority

#: A change is called significant only below this p-value of the two-proportion test.
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Change:
    """A figure set against the same figure over ``window`` (an earlier one)."""

    window: Window
    before: DeterminantFigure
    difference: float | None  # share positive now minus before
    p_value: float | None
    significant: bool


def change(now: DeterminantFigure, before: DeterminantFigure, window: Window) -> Change:
    difference = None
    if now.share_positive is not None and before.share_positive is not None:
        difference = now.share_positive - before.share_positive
    p_value = two_proportion_p_value(now.positive, now.n, before.positive, before.n)
    significant = (p_value is not None and p_value < SIGNIFICANCE and now.sufficient
                   and before.sufficient)
    return Change(window, before, difference, p_value, significant)


@dataclass(frozen=True)
class ComparedReport:
    """A window's figures with the window before and, when it holds any mention, the same
    window a year earlier."""

    report: SatisfactionReport
    previous: SatisfactionReport
    year_before: SatisfactionReport | None

    def changes(self, determinant: str | None) -> tuple[Change, Change | None]:
        """The change since the previous window and since a year before (None without data
        a year before) of one determinant (the overall sentiment for None)."""
        now = self.report.figure(determinant)
        since_previous = change(now, self.previous.figure(determinant), self.previous.window)
        if self.year_before is None:
            return since_previous, None
        return since_previous, change(now, self.year_before.figure(determinant),
                                      self.year_before.window)


def _has_data(report: SatisfactionReport) -> bool:
    o = report.overall
    return bool(o.positive or o.negative or o.neutral or report.rating_count)


def compared_satisfaction(session: Session, authority: Authority, window: Window, *,
                          min_sample_size: int = 30, filters: Filters = Filters()
                          ) -> ComparedReport:
    now, previous, earlier = reports(
        session, authority, [window, previous_window(window), year_before(window)],
        min_sample_size=min_sample_size, filters=filters)
    return ComparedReport(now, previous, earlier if _has_data(earlier) else None)
