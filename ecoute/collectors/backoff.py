"""Health of a source: when a failing source is retried, and how it is shown to people.

A source that fails now and then is simply retried at its next scheduled time. Once it has
failed ``source_failure_threshold`` times in a row it is flagged as failing and backs off
exponentially (``backoff_base_seconds`` × 2^(failures − 1), at most ``backoff_max_seconds``),
so a dead feed is not hammered while a healed one is soon back. Any success clears both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ecoute.config.settings import Settings
from ecoute.store.models import Source, utcnow


def backoff_delay(failures: int, settings: Settings) -> timedelta | None:
    """How long to wait after ``failures`` consecutive failures; None below the threshold."""
    if failures < settings.source_failure_threshold:
        return None
    exponent = min(failures - 1, 40)  # 2**40 × any base is far beyond every sane cap
    return timedelta(
        seconds=min(settings.backoff_base_seconds * 2**exponent, settings.backoff_max_seconds)
    )


def next_retry_at(failures: int, now: datetime, settings: Settings) -> datetime | None:
    delay = backoff_delay(failures, settings)
    return now + delay if delay is not None else None


@dataclass(frozen=True)
class SourceHealth:
    #: ``ok``, ``never run``, ``failed`` (below the threshold), ``failing`` (flagged),
    #: ``backing off`` (flagged and waiting), ``disabled``, ``quarantine`` (the last run
    #: put entries in quarantine that nobody has retried or dismissed yet)
    state: str
    flagged: bool
    retry_at: datetime | None
    quarantined: int = 0

    def describe(self) -> str:
        if self.state == "backing off" and self.retry_at is not None:
            return f"backing off until {self.retry_at:%Y-%m-%d %H:%M} UTC"
        if self.state == "quarantine":
            return f"{self.quarantined} entr{'y' if self.quarantined == 1 else 'ies'} in " \
                "quarantine (`ecoute quarantine list`)"
        return self.state

    def as_dict(self) -> dict[str, Any]:
        return {"health": self.state, "flagged": self.flagged,
                "backing_off_until": self.retry_at, "quarantined": self.quarantined}


def source_health(source: Source, settings: Settings, now: datetime | None = None, *,
                  quarantined: int = 0) -> SourceHealth:
    """``quarantined``: unresolved quarantine entries of the source's last run."""
    now = now or utcnow()
    flagged = source.consecutive_failures >= settings.source_failure_threshold
    waiting = source.next_run_at is not None and source.next_run_at > now
    if not source.enabled:
        state = "disabled"
    elif source.last_run_at is None:
        state = "never run"
    elif flagged:
        state = "backing off" if waiting else "failing"
    elif source.consecutive_failures:
        state = "failed"
    elif quarantined:
        state = "quarantine"
    else:
        state = "ok"
    return SourceHealth(state, flagged, source.next_run_at if flagged and waiting else None,
                        quarantined)
