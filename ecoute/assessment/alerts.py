"""What raises an alert, evaluated for one authority at a time.

- ``determinant_drop``: a determinant's (or the overall sentiment's) positive share over the
  last ``alert_window_days`` fell by at least ``alert_min_drop`` from the
  ``alert_baseline_days`` before, significantly (two-proportion test, p < 0.05), with at least
  ``min_sample_size`` mentions on each side: noise at small n never fires.
- ``volume_spike``: yesterday or today (local days) brought ``alert_spike_factor`` times the
  items of an average day of the 14 before it, improbably many for that average (Poisson
  p < 0.01), and at least ``SPIKE_MIN_ITEMS``; all channels together and each channel.
- ``source_silent``: an enabled, scheduled source without a successful run since it should
  have run ``SILENT_MISSED_RUNS`` times (its schedule says when).
- ``phone_overload``: a phone queue the overload detection holds overloaded
  (``ecoute.assessment.phone``: thresholds with hysteresis).
- ``emerging_topic``: ``ecoute.assessment.topics``.

Everything reads rollups, the sources table, call statistics or the stored embeddings: never a
scan of items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from ecoute.assessment.satisfaction import Window, authority_today, satisfaction
from ecoute.assessment.statistics import poisson_upper_tail, two_proportion_p_value
from ecoute.assessment.topics import emerging_topics
from ecoute.config.settings import Settings
from ecoute.domain import OVERALL
from ecoute.store.alerts import AlertChanges, Finding, list_alerts, sync_alerts
from ecoute.store.models import AlertKind, Authority, utcnow
from ecoute.store.phone import list_overloads
from ecoute.store.sources import list_sources
from ecoute.store.volumes import daily_volumes

#: The p-value under which a drop is called significant.
SIGNIFICANCE = 0.05
SPIKE_P_VALUE = 0.01
SPIKE_BASELINE_DAYS = 14
SPIKE_MIN_ITEMS = 10
SILENT_MISSED_RUNS = 3

#: When a source that last succeeded at ``since`` should have run ``runs`` times since, by its
#: schedule in the authority's time zone; None for a manual or unreadable schedule. Given by
#: the scheduler, which owns schedules.
SilenceDeadline = Callable[[str | None, str, datetime, int], datetime | None]


def _label(determinant: str) -> str:
    return "overall sentiment" if determinant == OVERALL else determinant.replace("_", " ")


def determinant_drops(session: Session, authority: Authority, settings: Settings, today: date
                      ) -> list[Finding]:
    window = settings.alert_window_days
    current = Window(today - timedelta(days=window - 1), today)
    before = Window(current.start - timedelta(days=settings.alert_baseline_days),
                    current.start - timedelta(days=1))
    now_report = satisfaction(session, authority, current,
                              min_sample_size=settings.min_sample_size)
    then_report = satisfaction(session, authority, before,
                               min_sample_size=settings.min_sample_size)
    then = {f.determinant: f for f in [then_report.overall, *then_report.determinants]}
    findings = []
    for figure in [now_report.overall, *now_report.determinants]:
        past = then[figure.determinant]
        if not (figure.sufficient and past.sufficient) or figure.share_positive is None \
                or past.share_positive is None:
            continue
        drop = past.share_positive - figure.share_positive
        p = two_proportion_p_value(figure.positive, figure.n, past.positive, past.n)
        if drop >= settings.alert_min_drop and p is not None and p < SIGNIFICANCE:
            findings.append(Finding(
                AlertKind.DETERMINANT_DROP, f"{AlertKind.DETERMINANT_DROP}:{figure.determinant}",
                f"{_label(figure.determinant).capitalize()}: {figure.share_positive:.0%} "
                f"positive over the last {window} days, down from {past.share_positive:.0%} "
                f"(p = {p:.3f})",
                {"determinant": figure.determinant, "share_positive": figure.share_positive,
                 "n": figure.n, "positive": figure.positive,
                 "baseline_share_positive": past.share_positive, "baseline_n": past.n,
                 "baseline_positive": past.positive, "drop": drop, "p_value": p,
                 "window": [current.start.isoformat(), current.end.isoformat()],
                 "baseline": [before.start.isoformat(), before.end.isoformat()]}))
    return findings


def volume_spikes(session: Session, authority: Authority, settings: Settings, today: date
                  ) -> list[Finding]:
    yesterday = today - timedelta(days=1)
    first = yesterday - timedelta(days=SPIKE_BASELINE_DAYS)
    volumes = daily_volumes(session, authority.id, first, today)
    channels = sorted({channel for _day, channel in volumes})
    findings = []
    for channel in [None, *channels]:
        def count(day: date, channel: str | None = channel) -> int:
            return sum(n for (d, c), n in volumes.items() if d == day
                       and (channel is None or c == channel))

        for day in (today, yesterday):
            baseline = [count(day - timedelta(days=k)) for k in range(1, SPIKE_BASELINE_DAYS + 1)]
            mean = sum(baseline) / len(baseline)
            items = count(day)
            # A baseline below one item a day is a source just added, not a usual rhythm.
            if mean < 1 or items < SPIKE_MIN_ITEMS or items < settings.alert_spike_factor * mean:
                continue
            p = poisson_upper_tail(items, mean)
            if p >= SPIKE_P_VALUE:
                continue
            where = f"{channel} items" if channel else "items"
            findings.append(Finding(
                AlertKind.VOLUME_SPIKE, f"{AlertKind.VOLUME_SPIKE}:{channel or 'all'}",
                f"{items} {where} on {day:%Y-%m-%d}, {items / mean:.1f} times the daily "
                f"average of the {SPIKE_BASELINE_DAYS} days before ({mean:.1f})",
                {"channel": channel, "day": day.isoformat(), "items": items,
                 "baseline_mean": mean, "ratio": items / mean, "p_value": p}))
            break  # today's spike, or else yesterday's: one alert per channel
    return findings


def silent_sources(session: Session, authority: Authority, now: datetime,
                   deadline: SilenceDeadline) -> list[Finding]:
    findings = []
    for source, items in list_sources(session, authority.id):
        if not source.enabled:
            continue
        since = source.last_success_at or source.created_at
        due = deadline(source.schedule, authority.timezone, since, SILENT_MISSED_RUNS)
        if due is None or now <= due:
            continue
        success = (f"its last successful run was on {source.last_success_at:%Y-%m-%d %H:%M} "
                   "UTC" if source.last_success_at else "it never ran successfully")
        findings.append(Finding(
            AlertKind.SOURCE_SILENT, f"{AlertKind.SOURCE_SILENT}:{source.id}",
            f"Source {source.name!r} ({source.schedule}) is silent: {success}"
            + (f"; last error: {source.last_error}" if source.last_error else ""),
            {"source_id": source.id, "source": source.name, "kind": source.kind,
             "schedule": source.schedule, "items": items,
             "last_success_at": source.last_success_at.isoformat()
             if source.last_success_at else None,
             "consecutive_failures": source.consecutive_failures,
             "last_error": source.last_error, "expected_by": due.isoformat()}))
    return findings


def phone_overloads(session: Session, authority: Authority) -> list[Finding]:
    """The overloads the detection (``ecoute.assessment.phone``) holds open: the alert follows
    the one definition of an overload, with its hysteresis."""
    findings = []
    for overload in list_overloads(session, authority.id, active=True):
        crossed = overload.trigger.get("figures", {})
        what = ", ".join(f"{_PHONE_FIGURES.get(name, name)} {_phone_value(name, value)}"
                         for name, value in crossed.items())
        findings.append(Finding(
            AlertKind.PHONE_OVERLOAD, f"{AlertKind.PHONE_OVERLOAD}:{overload.queue}",
            f"Phone queue {overload.queue!r} overloaded since "
            f"{overload.started_at:%Y-%m-%d %H:%M} UTC ({what})",
            {"queue": overload.queue, "overload_id": overload.id,
             "since": overload.started_at.isoformat(), "trigger": crossed,
             "calm_since": overload.calm_since.isoformat() if overload.calm_since else None}))
    return findings


_PHONE_FIGURES = {"abandon_rate": "abandon rate", "avg_wait_seconds": "average wait",
                  "calls_waiting": "calls waiting", "service_level": "service level"}


def _phone_value(name: str, value: float) -> str:
    if name in ("abandon_rate", "service_level"):
        return f"{value:.0%}"
    return f"{value:.0f} s" if name == "avg_wait_seconds" else f"{value:.0f}"


def find_alerts(
    session: Session, authority: Authority, settings: Settings, *,
    now: datetime | None = None, silence_deadline: SilenceDeadline | None = None,
    kinds: Iterable[str] | None = None,
) -> tuple[set[str], list[Finding]]:
    """The kinds evaluated (all by default; ``source_silent`` only with a
    ``silence_deadline``) and what they found; reads only."""
    now = now or utcnow()
    today = authority_today(authority, now)
    wanted = set(kinds or AlertKind)
    if silence_deadline is None:
        wanted.discard(AlertKind.SOURCE_SILENT)
    findings: list[Finding] = []
    if AlertKind.DETERMINANT_DROP in wanted:
        findings += determinant_drops(session, authority, settings, today)
    if AlertKind.VOLUME_SPIKE in wanted:
        findings += volume_spikes(session, authority, settings, today)
    if AlertKind.SOURCE_SILENT in wanted and silence_deadline is not None:
        findings += silent_sources(session, authority, now, silence_deadline)
    if AlertKind.PHONE_OVERLOAD in wanted:
        findings += phone_overloads(session, authority)
    if AlertKind.EMERGING_TOPIC in wanted:
        findings += emerging_topics(session, authority, settings, today,
                                    known=_known_topics(session, authority.id))
    return wanted, findings


def evaluate_alerts(
    session: Session, authority: Authority, settings: Settings, *,
    now: datetime | None = None, silence_deadline: SilenceDeadline | None = None,
    kinds: Iterable[str] | None = None,
) -> AlertChanges:
    """:func:`find_alerts`, then store what changed. The caller commits."""
    now = now or utcnow()
    wanted, findings = find_alerts(session, authority, settings, now=now,
                                   silence_deadline=silence_deadline, kinds=kinds)
    return sync_alerts(session, authority.id, wanted, findings, now=now)


def _known_topics(session: Session, authority_id: int) -> dict[str, set[int]]:
    """The items of each topic alert still standing (active, or resolved by a person while it
    lasts), so that a topic keeps its key while items join it."""
    return {a.key: set(a.figures.get("item_ids", []))
            for a in list_alerts(session, authority_id, active=None,
                                 kind=AlertKind.EMERGING_TOPIC, limit=1000)
            if a.cleared_at is None}
