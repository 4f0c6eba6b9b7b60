"""Repository functions for failed sign-ins: slowed, then refused for a while.

A sign-in is tried against subjects: the username (for a password) and the client address
(always, for a password or an API key). Per subject, with its limit (``per_user`` or
``per_address``):

- after half its limit of failures within the window (at least ``SLOW_AFTER``: 2 of a
  username's 5, 10 of an address's 20), the next attempt is heard only ``SLOW_SECONDS`` ×
  2^(failures − that half) seconds after the last one (5 s, 10 s, 20 s, 40 s, then
  ``SLOW_MAX_SECONDS``): a person who mistyped barely notices, a guessing program is slowed
  long before the lock, and colleagues sharing an address are not slowed by one typo;
- once ``limit`` failures fall within ``window`` of each other, the subject is refused until
  ``lockout`` after its last failure.

Attempts refused this way are not counted, so a lock ends when it says it does even while
someone keeps knocking. A successful sign-in clears the failures of its subjects. The rows
live in the database (``SigninFailure``) so that every worker process counts every failure;
rows too old to count are deleted whenever a failure is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ecoute.config.settings import Settings
from ecoute.errors import TooManyAttempts
from ecoute.store.models import SigninFailure

#: The fewest failures within the window after which each next attempt waits (see the
#: docstring).
SLOW_AFTER = 2
SLOW_SECONDS = 5.0
#: The longest of these waits: beyond, the lock takes over (a longer wait would lock a
#: shared address long before its own limit).
SLOW_MAX_SECONDS = 60.0


@dataclass(frozen=True)
class SigninLimits:
    per_user: int
    per_address: int
    window: timedelta
    lockout: timedelta

    @classmethod
    def of(cls, settings: Settings) -> SigninLimits:
        return cls(settings.signin_max_failures, settings.signin_max_failures_per_address,
                   timedelta(minutes=settings.signin_window_minutes),
                   timedelta(minutes=settings.signin_lockout_minutes))

    @property
    def memory(self) -> timedelta:
        """How long a failure can matter: a lock needs its failures within ``window`` of its
        last one, and lasts ``lockout`` after it."""
        return self.window + self.lockout


def subject_hash(kind: str, value: str) -> str:
    """What is stored for a username or an address: its sha256, never the text."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def subjects_of(limits: SigninLimits, *, username: str | None, address: str
                ) -> dict[str, int]:
    """The subjects of one attempt with their limits (usernames without case: changing the
    case of a name must not give more tries)."""
    subjects = {subject_hash("address", address): limits.per_address}
    if username and username.strip():
        subjects[subject_hash("user", username.strip().lower())] = limits.per_user
    return subjects


def refused_until(failures: Sequence[datetime], limit: int, limits: SigninLimits,
                  now: datetime) -> datetime | None:
    """When one subject with these ``failures`` (any order) may try again, if not now."""
    times = sorted(failures, reverse=True)
    if not times:
        return None
    last = times[0]
    until = None
    if len(times) >= limit and last - times[limit - 1] <= limits.window:
        until = last + limits.lockout
    else:
        recent = sum(1 for t in times if t > now - limits.window)
        slow_after = max(SLOW_AFTER, limit // 2)
        if recent >= slow_after:
            seconds = min(SLOW_SECONDS * 2 ** min(recent - slow_after, 30), SLOW_MAX_SECONDS)
            until = last + min(timedelta(seconds=seconds), limits.lockout)
    return until if until is not None and until > now else None


@dataclass(frozen=True)
class SigninCheck:
    """An attempt found allowed: what to record once its outcome is known."""

    subjects: Mapping[str, int]
    #: The subjects that already have failures (cleared on success).
    failing: frozenset[str]
    now: datetime


def check_signin(session: Session, limits: SigninLimits, subjects: Mapping[str, int],
                 now: datetime) -> SigninCheck:
    """Refuse (``TooManyAttempts``) an attempt one of whose subjects must wait; else what
    :func:`signin_failed` and :func:`signin_succeeded` need."""
    found: dict[str, list[datetime]] = {}
    for subject, at in session.execute(
            select(SigninFailure.subject, SigninFailure.at).where(
                SigninFailure.subject.in_(list(subjects)),
                SigninFailure.at > now - limits.memory)):
        found.setdefault(subject, []).append(at)
    waits = [until for subject, times in found.items()
             if (until := refused_until(times, subjects[subject], limits, now)) is not None]
    if waits:
        retry_at = max(waits)
        raise TooManyAttempts(
            "too many failed sign-ins or unknown API keys for this username or from this "
            "address", retry_at=retry_at,
            hint=f"wait until {retry_at:%H:%M:%S} UTC and try again; for a username, an "
            "administrator can also set a new password (`ecoute users password`), which "
            "lifts its lock")
    return SigninCheck(subjects, frozenset(found), now)


def signin_failed(session: Session, check: SigninCheck, limits: SigninLimits) -> None:
    """Count a failed attempt against each of its subjects."""
    session.execute(delete(SigninFailure).where(SigninFailure.at <= check.now - limits.memory)
                    .execution_options(synchronize_session=False))
    session.add_all([SigninFailure(subject=s, at=check.now) for s in check.subjects])
    session.flush()


def signin_succeeded(session: Session, check: SigninCheck) -> None:
    """A successful attempt clears its subjects' failures (no write when there were none:
    the API checks every request's key)."""
    if check.failing:
        session.execute(delete(SigninFailure).where(
            SigninFailure.subject.in_(list(check.failing)))
            .execution_options(synchronize_session=False))


def forget_username_failures(session: Session, username: str) -> None:
    """Lift a username's lock (a new password was set by an administrator)."""
    session.execute(delete(SigninFailure).where(
        SigninFailure.subject == subject_hash("user", username.strip().lower()))
        .execution_options(synchronize_session=False))
