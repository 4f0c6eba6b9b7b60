"""The digest log's guarantees, on both databases: one row per (subscription, period), a
claim only its claimant moves to ``sending``, stale claims and due retries taken over once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session, sessionmaker

from ecoute.store import digests
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import DigestStatus

NOW = datetime(2026, 11, 23, 7, tzinfo=timezone.utc)


def _subscription(factory: sessionmaker[Session]) -> int:
    with session_scope(factory) as session:
        owner = ensure_authority(session, "valmont")
        return digests.add_subscription(session, authority_id=owner.id, email="a@b.example",
                                        locale="fr", frequency="weekly", weekday=0, hour=8).id


def test_a_period_is_claimed_once(factory: sessionmaker[Session]) -> None:
    sub = _subscription(factory)
    with session_scope(factory) as session:
        first = digests.claim(session, sub, "2026-W47", "one", NOW)
        assert first is not None
        # The loser of the race gets None and its session goes on.
        assert digests.claim(session, sub, "2026-W47", "two", NOW) is None
        assert digests.claim(session, sub, "2026-W48", "two", NOW) is not None
    with session_scope(factory) as session:
        assert digests.claim(session, sub, "2026-W47", "three", NOW) is None
        assert not digests.start_sending(session, first.id, "two")
        assert digests.start_sending(session, first.id, "one")
        assert not digests.start_sending(session, first.id, "one")  # already sending


def test_stale_claims_and_due_retries_are_taken_over_once(
        factory: sessionmaker[Session]) -> None:
    sub = _subscription(factory)
    with session_scope(factory) as session:
        stale = digests.claim(session, sub, "2026-W46", "dead", NOW - timedelta(hours=1))
        fresh = digests.claim(session, sub, "2026-W47", "alive", NOW)
        waiting = digests.claim(session, sub, "2026-W45", "earlier", NOW - timedelta(hours=2))
        assert stale and fresh and waiting
        digests.note_failure(session, waiting.id, DigestStatus.RETRY, "451 busy",
                             next_attempt_at=NOW + timedelta(minutes=10))
        sending = digests.claim(session, sub, "2026-W44", "gone", NOW - timedelta(days=1))
        assert sending and digests.start_sending(session, sending.id, "gone")
    with session_scope(factory) as session:
        taken = digests.retake_stale(session, "me", NOW, claim_seconds=900)
        assert [row.period for row in taken] == ["2026-W46"]
        assert taken[0].claimed_by == "me" and digests.attempts(session, waiting.id) == 1
    with session_scope(factory) as session:
        assert digests.retake_stale(session, "other", NOW, claim_seconds=900) == []
        later = digests.retake_stale(session, "other", NOW + timedelta(minutes=10), 900)
        assert [row.period for row in later] == ["2026-W45"]  # never the one sending
