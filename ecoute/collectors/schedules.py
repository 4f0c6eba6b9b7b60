"""Reading a source's ``schedule`` string into an APScheduler trigger.

Accepted forms (case-insensitive)::

    every 30 minutes      every hour      every 2 days      every 1 week
    cron: 0 7 * * 1       (minute hour day-of-month month day-of-week, as in crontab)
    manual                (never collected by the scheduler: push sources, one-off imports)

Cron expressions are read in the authority's timezone, with crontab's day numbers
(0 or 7 = Sunday), which APScheduler's own numbering (0 = Monday) would silently shift.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ecoute.errors import InvalidSchedule

MANUAL = {"manual", "never", "off"}
_EVERY = re.compile(
    r"^every\s+(?:(\d+)\s+)?(second|minute|min|hour|day|week)s?$", re.IGNORECASE
)
_UNITS = {"second": "seconds", "minute": "minutes", "min": "minutes", "hour": "hours",
          "day": "days", "week": "weeks"}
_CRON_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HINT = "write e.g. 'every 30 minutes', 'every 2 hours', 'cron: 0 7 * * 1' or 'manual'"


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidSchedule(
            f"unknown timezone {timezone!r}", hint="use an IANA name such as Europe/Paris"
        ) from exc


def _crontab_days(field: str) -> str:
    def name(match: re.Match[str]) -> str:
        number = int(match.group(0))
        if number > 7:
            raise InvalidSchedule(f"day of week {number} does not exist (0-7)", hint=_HINT)
        return _CRON_DAYS[number]

    return re.sub(r"\d+", name, field)


def parse_schedule(schedule: str | None, timezone: str = "UTC") -> BaseTrigger | None:
    """The trigger for ``schedule``; None for a manual source. Raises InvalidSchedule."""
    if schedule is None or schedule.strip().lower() in MANUAL:
        return None
    text = " ".join(schedule.strip().split())
    zone = _zone(timezone)
    every = _EVERY.match(text)
    if every:
        count = int(every.group(1) or 1)
        if count < 1:
            raise InvalidSchedule(f"schedule {schedule!r}: the interval must be at least 1",
                                  hint=_HINT)
        delta = timedelta(**{_UNITS[every.group(2).lower()]: count})
        if delta < timedelta(minutes=1):
            raise InvalidSchedule(
                f"schedule {schedule!r} is more often than once a minute",
                hint="sources are polite to the sites they read: use 'every 1 minute' or more",
            )
        return IntervalTrigger(seconds=int(delta.total_seconds()), timezone=zone)
    if text.lower().startswith("cron:"):
        fields = text[5:].split()
        if len(fields) != 5:
            raise InvalidSchedule(
                f"schedule {schedule!r} needs 5 cron fields (minute hour day month weekday)",
                hint=_HINT,
            )
        minute, hour, day, month, weekday = fields
        try:
            return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                               day_of_week=_crontab_days(weekday), timezone=zone)
        except ValueError as exc:
            raise InvalidSchedule(f"schedule {schedule!r}: {exc}", hint=_HINT) from exc
    raise InvalidSchedule(f"cannot read the schedule {schedule!r}", hint=_HINT)


def fingerprint(schedule: str | None, timezone: str) -> str:
    """What, when it changes, means a source's job must be rebuilt."""
    return f"{' '.join((schedule or '').lower().split())}|{timezone}"


def nth_fire_after(schedule: str | None, timezone: str, after: datetime, runs: int
                   ) -> datetime | None:
    """When ``schedule`` fires for the ``runs``-th time after ``after`` (how long a source may
    stay without a successful run); None for a manual or unreadable schedule."""
    try:
        trigger = parse_schedule(schedule, timezone)
    except InvalidSchedule:
        return None
    if trigger is None:
        return None
    if isinstance(trigger, IntervalTrigger):
        # An interval trigger counts from when it was made; the interval is what matters.
        return after + trigger.interval * runs
    fire = after
    for _ in range(runs):
        following = trigger.get_next_fire_time(None, fire + timedelta(microseconds=1))
        if following is None:
            return None
        fire = following
    return fire
