"""Failed sign-ins slowed, then refused for a while, counted in the database (SQLite and
PostgreSQL), with the time given by the tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.errors import TooManyAttempts
from ecoute.store.db import session_scope
from ecoute.store.models import SigninFailure
from ecoute.store.users import create_user, set_password
from ecoute.store.signin_attempts import (
    SLOW_MAX_SECONDS,
    SigninLimits,
    check_signin,
    refused_until,
    signin_failed,
    signin_succeeded,
    subject_hash,
    subjects_of,
)

LIMITS = SigninLimits(per_user=5, per_address=20, window=timedelta(minutes=15),
                      lockout=timedelta(minutes=15))
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def _attempt(factory: sessionmaker[Session], now: datetime, *, ok: bool,
             username: str | None = "marie", address: str = "192.0.2.7",
             limits: SigninLimits = LIMITS) -> None:
    """One attempt at ``now``: refused (TooManyAttempts), or counted as ``ok`` says."""
    with session_scope(factory) as session:
        check = check_signin(session, limits, subjects_of(limits, username=username,
                                                          address=address), now)
        if ok:
            signin_succeeded(session, check)
        else:
            signin_failed(session, check, limits)


def _fail_apart(factory: sessionmaker[Session], start: datetime, times: int, **who: str
                ) -> datetime:
    """``times`` failures, each a minute after the last (past every slowing wait)."""
    now = start
    for _ in range(times):
        _attempt(factory, now, ok=False, **who)
        now += timedelta(minutes=1)
    return now - timedelta(minutes=1)


def test_five_failures_lock_the_username_until_the_lockout_expires(
        factory: sessionmaker[Session]) -> None:
    last = _fail_apart(factory, T0, 5)
    with pytest.raises(TooManyAttempts) as refused:
        _attempt(factory, last + timedelta(minutes=14), ok=True)
    assert refused.value.retry_at == last + LIMITS.lockout
    assert refused.value.http_status == 429 and "wait until" in (refused.value.hint or "")
    # The same username from another address, in another case: still refused.
    with pytest.raises(TooManyAttempts):
        _attempt(factory, last + timedelta(minutes=14), ok=True, username="MARIE",
                 address="198.51.100.1")
    # Refused attempts do not count: the lock ends when it said.
    _attempt(factory, last + LIMITS.lockout + timedelta(seconds=1), ok=True)
    # The success cleared the count: four more failures do not lock.
    after = _fail_apart(factory, last + timedelta(hours=1), 4)
    _attempt(factory, after + timedelta(minutes=1), ok=True)


def test_a_new_password_lifts_the_username_lock(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        create_user(session, username="Marie", password="une phrase assez longue",
                    role="admin", authority=None)
    last = _fail_apart(factory, T0, 5)
    with pytest.raises(TooManyAttempts):
        _attempt(factory, last + timedelta(minutes=1), ok=True, address="198.51.100.3")
    with session_scope(factory) as session:
        set_password(session, "Marie", "une autre phrase assez longue")
    _attempt(factory, last + timedelta(minutes=1), ok=True, address="198.51.100.3")


def test_another_username_is_not_locked_by_someone_elses_failures(
        factory: sessionmaker[Session]) -> None:
    last = _fail_apart(factory, T0, 5, username="marie")
    _attempt(factory, last + timedelta(minutes=1), ok=True, username="paul")


def test_failures_spread_wider_than_the_window_do_not_lock(
        factory: sessionmaker[Session]) -> None:
    now = T0
    for _ in range(8):
        _attempt(factory, now, ok=False)
        now += timedelta(minutes=6)  # never five within 15 minutes
    _attempt(factory, now, ok=True)


def test_the_second_failure_slows_the_next_attempt(factory: sessionmaker[Session]) -> None:
    _attempt(factory, T0, ok=False)
    _attempt(factory, T0 + timedelta(seconds=1), ok=False)  # one failure: no wait
    with pytest.raises(TooManyAttempts) as refused:
        _attempt(factory, T0 + timedelta(seconds=3), ok=True)
    assert refused.value.retry_at == T0 + timedelta(seconds=6)
    _attempt(factory, T0 + timedelta(seconds=7), ok=False)
    with pytest.raises(TooManyAttempts) as refused:
        _attempt(factory, T0 + timedelta(seconds=12), ok=True)
    assert refused.value.retry_at == T0 + timedelta(seconds=17)


def test_an_address_is_locked_after_its_own_limit_whatever_it_tries(
        factory: sessionmaker[Session]) -> None:
    limits = SigninLimits(per_user=5, per_address=8, window=timedelta(minutes=15),
                          lockout=timedelta(minutes=15))
    now = T0
    for n in range(limits.per_address):
        # Other usernames, or API keys (no username): the address counts them all.
        _attempt(factory, now, ok=False, username=f"name{n}" if n % 2 else None,
                 limits=limits)
        now += timedelta(seconds=SLOW_MAX_SECONDS + 1)
    with pytest.raises(TooManyAttempts):
        _attempt(factory, now, ok=True, username="someone-new", limits=limits)
    _attempt(factory, now, ok=True, username="someone-new", address="198.51.100.9",
             limits=limits)


def test_old_failures_are_deleted_and_names_never_stored(factory: sessionmaker[Session]
                                                         ) -> None:
    _fail_apart(factory, T0, 3, username="jean.dupont")
    _attempt(factory, T0 + timedelta(days=1), ok=False, username="other")
    with session_scope(factory) as session:
        subjects = set(session.scalars(select(SigninFailure.subject)))
        assert subjects == {subject_hash("user", "other"), subject_hash("address", "192.0.2.7")}
        assert session.scalar(select(func.count()).select_from(SigninFailure)) == 2
        assert not any("other" in s or "192" in s for s in subjects)


def _times(offsets: list[int]) -> list[datetime]:
    return [T0 + timedelta(seconds=s) for s in offsets]


@given(st.lists(st.integers(0, 3 * 3600), max_size=12), st.integers(0, 4 * 3600))
def test_a_refusal_never_outlasts_the_lockout_and_always_ends(offsets: list[int],
                                                              later: int) -> None:
    failures = _times(offsets)
    now = T0 + timedelta(seconds=later)
    until = refused_until(failures, 5, LIMITS, now)
    if until is not None:
        assert now < until <= max(failures) + LIMITS.lockout
        assert refused_until(failures, 5, LIMITS, until) is None


@given(st.lists(st.integers(0, 3 * 3600), min_size=5, max_size=12))
def test_five_failures_within_the_window_lock_until_the_lockout(offsets: list[int]) -> None:
    failures = sorted(_times(offsets), reverse=True)
    last = failures[0]
    until = refused_until(failures, 5, LIMITS, last)
    if last - failures[4] <= LIMITS.window:
        assert until == last + LIMITS.lockout
    else:
        # Not locked: at most slowed, by a minute at most.
        assert until is None or until <= last + timedelta(seconds=SLOW_MAX_SECONDS)
