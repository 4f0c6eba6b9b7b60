"""Repository functions for digest subscriptions and the digest log.

Sending a digest exactly once rests on three statements: the log row of (subscription,
period) is inserted against its unique key before anything is composed (the loser of a race
gets nothing); a claimed row moves to ``sending`` by a conditional UPDATE that only its
claimant can make, just before the SMTP conversation; and a row left ``claimed`` by a process
that died is taken over by another once its claim is older than the claim timeout.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoute.errors import NotFound
from ecoute.store.models import DigestLog, DigestStatus, DigestSubscription, utcnow


def add_subscription(
    session: Session, *, authority_id: int, email: str, locale: str, frequency: str,
    weekday: int, hour: int, department_id: int | None = None, site_id: int | None = None,
) -> DigestSubscription:
    subscription = DigestSubscription(
        authority_id=authority_id, email=email, locale=locale, frequency=frequency,
        weekday=weekday, hour=hour, department_id=department_id, site_id=site_id,
        token_salt=secrets.token_hex(16), created_at=utcnow(),
    )
    session.add(subscription)
    session.flush()
    return subscription


def active_duplicate(
    session: Session, *, authority_id: int, email: str, frequency: str,
    department_id: int | None, site_id: int | None,
) -> DigestSubscription | None:
    """An active subscription of the same address to the same digest."""
    query = select(DigestSubscription).where(
        DigestSubscription.authority_id == authority_id,
        func.lower(DigestSubscription.email) == email.lower(),
        DigestSubscription.frequency == frequency,
        DigestSubscription.unsubscribed_at.is_(None),
        DigestSubscription.department_id.is_(None) if department_id is None
        else DigestSubscription.department_id == department_id,
        DigestSubscription.site_id.is_(None) if site_id is None
        else DigestSubscription.site_id == site_id,
    )
    return session.scalar(query)


def get_subscription(
    session: Session, subscription_id: int, authority_id: int | None = None
) -> DigestSubscription:
    subscription = session.get(DigestSubscription, subscription_id)
    if subscription is None or (authority_id is not None
                                and subscription.authority_id != authority_id):
        raise NotFound(f"no digest subscription {subscription_id}",
                       hint="`ecoute digest list` shows the subscriptions and their numbers")
    return subscription


def list_subscriptions(
    session: Session, authority_id: int | None = None, *, include_unsubscribed: bool = False
) -> list[DigestSubscription]:
    query = select(DigestSubscription).order_by(DigestSubscription.id)
    if authority_id is not None:
        query = query.where(DigestSubscription.authority_id == authority_id)
    if not include_unsubscribed:
        query = query.where(DigestSubscription.unsubscribed_at.is_(None))
    return list(session.scalars(query))


def latest_logs(session: Session, subscription_ids: Sequence[int]) -> dict[int, DigestLog]:
    """The newest log row of each subscription (what was last sent, or why it failed)."""
    if not subscription_ids:
        return {}
    newest = (select(func.max(DigestLog.id))
              .where(DigestLog.subscription_id.in_(subscription_ids))
              .group_by(DigestLog.subscription_id))
    rows = session.scalars(select(DigestLog).where(DigestLog.id.in_(newest)))
    return {row.subscription_id: row for row in rows}


def failed_subscriptions(session: Session) -> int:
    """Active subscriptions whose latest digest was refused for good (health view)."""
    latest = latest_logs(session, [s.id for s in list_subscriptions(session)])
    return sum(1 for log in latest.values() if log.status == DigestStatus.FAILED)


def claim(session: Session, subscription_id: int, period: str, claimant: str,
          now: datetime | None = None) -> DigestLog | None:
    """Take (subscription, period) for sending; None when a log row already exists. Commits
    nothing itself, but runs in a savepoint so that a lost race leaves the session usable."""
    row = DigestLog(subscription_id=subscription_id, period=period,
                    status=DigestStatus.CLAIMED, attempts=0, claimed_by=claimant,
                    claimed_at=now or utcnow())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def retake_stale(session: Session, claimant: str, now: datetime, claim_seconds: float,
                 authority_id: int | None = None) -> list[DigestLog]:
    """Rows to send again: ``retry`` rows whose time has come, and ``claimed`` rows whose
    claimant did not get to the SMTP conversation within the claim timeout (it died).
    Each row is taken by a conditional UPDATE, so two senders never both take it."""
    stale = now - timedelta(seconds=claim_seconds)
    query = select(DigestLog.id, DigestLog.status).where(or_(
        (DigestLog.status == DigestStatus.RETRY) & (DigestLog.next_attempt_at <= now),
        (DigestLog.status == DigestStatus.CLAIMED) & (DigestLog.claimed_at <= stale),
    ))
    if authority_id is not None:
        query = query.join(DigestSubscription).where(
            DigestSubscription.authority_id == authority_id)
    taken = []
    for log_id, status in session.execute(query).all():
        guard = (DigestLog.next_attempt_at <= now if status == DigestStatus.RETRY
                 else DigestLog.claimed_at <= stale)
        result = session.execute(
            update(DigestLog)
            .where(DigestLog.id == log_id, DigestLog.status == status, guard)
            .values(status=DigestStatus.CLAIMED, claimed_by=claimant, claimed_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            taken.append(log_id)
    if not taken:
        return []
    return list(session.scalars(
        select(DigestLog).where(DigestLog.id.in_(taken))
        .execution_options(populate_existing=True)))


def start_sending(session: Session, log_id: int, claimant: str) -> bool:
    """Mark the row ``sending`` if it is still ours and unsent; from here on it is never
    sent again automatically, whatever happens to this process."""
    result = session.execute(
        update(DigestLog)
        .where(DigestLog.id == log_id, DigestLog.claimed_by == claimant,
               DigestLog.status == DigestStatus.CLAIMED)
        .values(status=DigestStatus.SENDING)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def mark_sent(session: Session, log_id: int, message_id: str) -> None:
    session.execute(update(DigestLog).where(DigestLog.id == log_id)
                    .values(status=DigestStatus.SENT, sent_at=utcnow(), message_id=message_id,
                            error=None, next_attempt_at=None)
                    .execution_options(synchronize_session=False))


def note_failure(session: Session, log_id: int, status: str, error: str, *,
                 claimed_at: datetime | None = None,
                 next_attempt_at: datetime | None = None) -> None:
    """Record a failed try (``claimed``: ours again for an immediate retry, ``retry``: for a
    later run, ``failed``: for good)."""
    values: dict[str, object] = {"status": status, "error": error,
                                 "attempts": DigestLog.attempts + 1,
                                 "next_attempt_at": next_attempt_at}
    if claimed_at is not None:
        values["claimed_at"] = claimed_at
    session.execute(update(DigestLog).where(DigestLog.id == log_id).values(**values)
                    .execution_options(synchronize_session=False))


def attempts(session: Session, log_id: int) -> int:
    """Failed tries recorded for the row."""
    return int(session.scalar(select(DigestLog.attempts).where(DigestLog.id == log_id)) or 0)


def drop_claim(session: Session, log_id: int) -> None:
    """Forget a claim that will not be sent (its subscription ended meanwhile)."""
    session.execute(delete(DigestLog).where(DigestLog.id == log_id,
                                            DigestLog.status == DigestStatus.CLAIMED))


def get_log(session: Session, log_id: int) -> DigestLog:
    row = session.get(DigestLog, log_id, populate_existing=True)
    if row is None:
        raise NotFound(f"no digest log {log_id}")
    return row
