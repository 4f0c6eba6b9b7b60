"""Overload of a phone queue, the one definition: what the back-up team is called for, what
the ``phone_overload`` alert reports and what the effect of the team is measured against.

At the end of each interval of call statistics, the figures of the sliding window
(``phone_window_minutes``) ending there are judged against the queue's thresholds:

- a queue enters overload when one figure crosses its threshold: abandon rate or average wait
  at or above it, calls waiting at or above it, service level below it (the rates only with at
  least ``min_offered`` calls in the window);
- it is *calm* when every figure is on the right side of its threshold by the margin
  (below threshold × (1 − margin), or for the service level above threshold × (1 + margin));
- an overload ends when the queue has been calm at every interval end for
  ``recovery_minutes``; anything between, or a new crossing, restarts the count.

So a figure that crosses its threshold back and forth makes one overload, not one per crossing.
A queue without figures for the recovery time (at least the window) is calm too: an overload
at closing time ends then.
:func:`detect` is the rule on a list of intervals; :func:`evaluate_queue` applies it to what the
store holds, from where the previous evaluation stopped.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ecoute.assessment.calls import CallFigures, figures_of
from ecoute.config.settings import Settings
from ecoute.store.call_stats import CallSums
from ecoute.store.models import PhoneOverload
from ecoute.store.phone import QueueInterval, open_overload, queue_intervals, queue_state

#: Length of an interval whose export does not say it.
DEFAULT_INTERVAL_MINUTES = 15
#: How far back the first evaluation of a queue looks (older figures are history imported
#: late: the effect of the team is measured on overloads found as they happened).
FIRST_LOOKBACK = timedelta(days=7)
#: The figures a threshold may be set on, as ``BackupTeam.thresholds`` keys.
THRESHOLD_KEYS = ("abandon_rate", "avg_wait_seconds", "calls_waiting", "service_level")


@dataclass(frozen=True)
class Thresholds:
    abandon_rate: float
    avg_wait_seconds: float
    calls_waiting: int
    service_level: float
    min_offered: int
    window_minutes: int
    margin: float
    recovery_minutes: int

    @classmethod
    def of(cls, settings: Settings, overrides: Mapping[str, Any] | None = None) -> Thresholds:
        """The installation's thresholds, with a team's own values for its queue."""
        base = cls(
            abandon_rate=settings.phone_abandon_rate,
            avg_wait_seconds=settings.phone_avg_wait_seconds,
            calls_waiting=settings.phone_calls_waiting,
            service_level=settings.phone_service_level,
            min_offered=settings.phone_min_offered,
            window_minutes=settings.phone_window_minutes,
            margin=settings.phone_hysteresis_margin,
            recovery_minutes=settings.phone_recovery_minutes,
        )
        wanted = {k: v for k, v in (overrides or {}).items() if k in THRESHOLD_KEYS
                  and v is not None}
        return replace(base, **wanted)


@dataclass(frozen=True)
class WindowFigures:
    """The figures of the sliding window ending at ``end``."""

    end: datetime
    calls: CallFigures
    waiting: int | None


def interval_end(interval: QueueInterval) -> datetime:
    return interval.start + timedelta(minutes=interval.minutes or DEFAULT_INTERVAL_MINUTES)


def window_figures(inside: Sequence[QueueInterval], end: datetime) -> WindowFigures:
    """Figures of the intervals of a window ending at ``end`` (in time order): summed the
    way ``assessment.calls`` sums a period, calls waiting from the last interval."""
    max_waits = [i.max_wait_seconds for i in inside if i.max_wait_seconds is not None]
    sums = CallSums(
        intervals=len(inside), offered=sum(i.offered for i in inside),
        answered=sum(i.answered for i in inside), abandoned=sum(i.abandoned for i in inside),
        wait_sum=sum(i.wait_sum for i in inside), wait_weight=sum(i.wait_weight for i in inside),
        max_wait_seconds=max(max_waits) if max_waits else None,
        level_sum=sum(i.level_sum for i in inside),
        level_weight=sum(i.level_weight for i in inside),
    )
    return WindowFigures(end=end, calls=figures_of(sums),
                         waiting=inside[-1].waiting if inside else None)


def crossed(figures: WindowFigures, t: Thresholds) -> dict[str, float]:
    """The figures at or beyond their threshold (empty: no overload at this point)."""
    calls, out = figures.calls, {}
    judged = calls.offered >= t.min_offered
    if judged and calls.abandon_rate is not None and calls.abandon_rate >= t.abandon_rate:
        out["abandon_rate"] = calls.abandon_rate
    if calls.avg_wait_seconds is not None and calls.avg_wait_seconds >= t.avg_wait_seconds:
        out["avg_wait_seconds"] = calls.avg_wait_seconds
    if figures.waiting is not None and figures.waiting >= t.calls_waiting:
        out["calls_waiting"] = float(figures.waiting)
    if judged and calls.service_level is not None and calls.service_level < t.service_level:
        out["service_level"] = calls.service_level
    return out


def calm(figures: WindowFigures, t: Thresholds) -> bool:
    """Every figure on the right side of its threshold by the margin (a rate not judged for
    lack of calls counts as calm: a quiet line is not overloaded)."""
    calls, low = figures.calls, 1 - t.margin
    judged = calls.offered >= t.min_offered
    if judged and calls.abandon_rate is not None and calls.abandon_rate >= t.abandon_rate * low:
        return False
    if calls.avg_wait_seconds is not None and calls.avg_wait_seconds >= t.avg_wait_seconds * low:
        return False
    if figures.waiting is not None and figures.waiting >= t.calls_waiting * low:
        return False
    return not (judged and calls.service_level is not None
                and calls.service_level <= min(1.0, t.service_level * (1 + t.margin)))


@dataclass
class DetectionState:
    overloaded: bool = False
    calm_since: datetime | None = None


@dataclass(frozen=True)
class OverloadEvent:
    """``start`` (at the end of the interval that crossed, with the figures that crossed) or
    ``end`` (at the end of the recovery time, with the start of the calm)."""

    kind: str
    at: datetime
    trigger: dict[str, float] = field(default_factory=dict)
    calm_since: datetime | None = None


def detect(intervals: Sequence[QueueInterval], t: Thresholds, *,
           state: DetectionState | None = None, after: datetime | None = None,
           ) -> tuple[DetectionState, list[OverloadEvent]]:
    """Judge each interval ending after ``after`` (all by default), in time order, from
    ``state``; the state reached and the overloads that started and ended."""
    state = replace(state) if state else DetectionState()
    recovery, window = timedelta(minutes=t.recovery_minutes), timedelta(minutes=t.window_minutes)
    events: list[OverloadEvent] = []
    ordered = sorted(intervals, key=interval_end)
    ends = [interval_end(i) for i in ordered]
    for end in sorted(set(ends)):
        if after is not None and end <= after:
            continue
        # The intervals ending in (end - window, end], found by bisection: a replay of a long
        # history stays n log n.
        inside = ordered[bisect_right(ends, end - window):bisect_right(ends, end)]
        figures = window_figures(inside, end)
        over = crossed(figures, t)
        if not state.overloaded:
            if over:
                state = DetectionState(overloaded=True)
                events.append(OverloadEvent("start", end, trigger=over))
            continue
        if not calm(figures, t):
            state.calm_since = None
            continue
        state.calm_since = state.calm_since or end
        if end - state.calm_since >= recovery:
            events.append(OverloadEvent("end", end, calm_since=state.calm_since))
            state = DetectionState()
    return state, events


@dataclass
class QueueChanges:
    opened: list[PhoneOverload] = field(default_factory=list)
    closed: list[PhoneOverload] = field(default_factory=list)
    #: The end of the last interval judged.
    until: datetime | None = None


def evaluate_queue(session: Session, authority_id: int, queue: str, t: Thresholds,
                   now: datetime) -> QueueChanges:
    """Judge the intervals of ``queue`` the store holds beyond the previous evaluation, and
    record the overloads that started and ended. An interval corrected after it was judged is
    not judged again. The caller commits."""
    row = queue_state(session, authority_id, queue)
    window = timedelta(minutes=t.window_minutes)
    after = row.evaluated_until
    start = (after or now - FIRST_LOOKBACK) - window
    intervals = queue_intervals(session, authority_id, queue, start)
    state = DetectionState(overloaded=row.overload_id is not None, calm_since=row.calm_since)
    state, events = detect(intervals, t, state=state, after=after)
    changes = QueueChanges()
    for event in events:
        if event.kind == "start":
            overload = open_overload(session, authority_id, queue, event.at,
                                     {"figures": event.trigger})
            row.overload_id = overload.id
            changes.opened.append(overload)
        else:
            ending = session.get(PhoneOverload, row.overload_id)
            assert ending is not None
            ending.calm_since, ending.ended_at = event.calm_since, event.at
            row.overload_id = None
            changes.closed.append(ending)
    ends = [interval_end(i) for i in intervals]
    if ends:
        row.evaluated_until = max([*ends, *([after] if after else [])])
    changes.until = row.evaluated_until
    current = session.get(PhoneOverload, row.overload_id) if row.overload_id else None
    silent = silence_end(state, row.evaluated_until, now, t)
    if current is not None and silent is not None:
        current.calm_since, current.ended_at = silent
        row.overload_id, state = None, DetectionState()
        changes.closed.append(current)
    elif current is not None:
        current.calm_since = state.calm_since
    row.calm_since = state.calm_since
    session.flush()
    return changes


def silence_end(state: DetectionState, last_end: datetime | None, now: datetime,
                t: Thresholds) -> tuple[datetime, datetime] | None:
    """When an overloaded queue has had no figures for the recovery time (at least the
    window) up to ``now``, its calm start and end: nobody is waiting on a line that records no
    call (an overload at closing time ends then, not when the next morning's figures come)."""
    if not state.overloaded or last_end is None:
        return None
    silence = max(timedelta(minutes=t.recovery_minutes), timedelta(minutes=t.window_minutes))
    calm_since = state.calm_since or last_end
    if now - last_end < silence:
        return None
    return calm_since, max(calm_since + timedelta(minutes=t.recovery_minutes), last_end)


def overload_windows(overloads: Iterable[PhoneOverload], now: datetime
                     ) -> list[tuple[PhoneOverload, datetime, datetime]]:
    """Each overload with the period it lasted: from its start to the start of the calm that
    ended it (the recovery time is not overload), or to ``now`` while it lasts."""
    return [(o, o.started_at, o.calm_since or o.ended_at or now) for o in overloads]
