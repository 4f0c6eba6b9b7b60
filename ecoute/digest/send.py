"""Sending what is due, each digest once.

``send_due`` claims the (subscription, period) pairs that are due — a log row inserted
against its unique key, committed before anything else — and takes over rows whose sender
died before the SMTP conversation (claimed longer than ``digest_claim_seconds``) or whose
retry time has come. Each row then goes: connect to the mail server, mark ``sending``
(committed), send, mark ``sent``. A crash before ``sending`` leaves a claim that another run
takes over: the digest goes out late, once. A crash after it leaves ``sending``, never sent
again automatically: a digest may then be missing (``ecoute digest list`` shows it), but
never doubled. Deferrals (4xx, lost connections) are retried at once with back-off, then by
later runs up to ``digest_max_attempts``; refusals are recorded as ``failed`` with the
server's answer.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings
from ecoute.digest.charts import charts
from ecoute.digest.compose import DigestSpec, compose
from ecoute.digest.mail import (
    Connection,
    SmtpTransport,
    build_message,
    message_id,
    sender_address,
)
from ecoute.digest.periods import due_at, due_period, parse_period
from ecoute.digest.render import render
from ecoute.digest.tokens import signing_key, unsubscribe_url
from ecoute.errors import MailError
from ecoute.store import digests
from ecoute.store.db import make_writer_factory, session_scope
from ecoute.store.models import DigestStatus, utcnow

log = logging.getLogger(__name__)


class Transport(Protocol):
    def connect(self) -> AbstractContextManager[Connection]: ...


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)  # "address period"
    deferred: list[str] = field(default_factory=list)  # tried again later
    failed: list[str] = field(default_factory=list)  # with the reason

    @property
    def total(self) -> int:
        return len(self.sent) + len(self.deferred) + len(self.failed)


def sender_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def claim_due(session: Session, now: datetime, claimant: str,
              authority_id: int | None = None) -> list[int]:
    """Insert the log rows of every digest due at ``now`` that no one took yet. A digest
    that was due before the subscription existed is not sent (a new subscriber waits for
    the next one)."""
    claimed = []
    for subscription in digests.list_subscriptions(session, authority_id):
        zone = ZoneInfo(subscription.authority.timezone)
        period = due_period(subscription.frequency, subscription.weekday, subscription.hour,
                            zone, now)
        if period is None or due_at(period, subscription.weekday, subscription.hour,
                                    zone) < subscription.created_at:
            continue
        row = digests.claim(session, subscription.id, period.key, claimant, now)
        if row is not None:
            claimed.append(row.id)
    return claimed


def writer_of(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions that take SQLite's write lock when they begin: claims read then write, and
    two senders reading the same snapshot would otherwise fail at once instead of waiting."""
    bind = factory.kw.get("bind")
    return make_writer_factory(bind) if bind is not None else factory


def send_due(
    factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None,
    transport: Transport | None = None, authority_id: int | None = None,
    claimant: str | None = None, sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """Send every digest due at ``now`` (default: now) and those waiting for a retry."""
    now = now or utcnow()
    claimant = claimant or sender_name()
    transport = transport or SmtpTransport(settings)
    sender_address(settings)  # a wrong sender fails here, before anything is claimed
    writer = writer_of(factory)
    with session_scope(writer) as session:
        ids = claim_due(session, now, claimant, authority_id)
    with session_scope(writer) as session:
        ids += [row.id for row in digests.retake_stale(
            session, claimant, now, settings.digest_claim_seconds, authority_id)]
    report = SendReport()
    for log_id in ids:
        deliver(factory, writer, settings, log_id, claimant, transport, report, now=now,
                sleep=sleep)
    return report


def _message(factory: sessionmaker[Session], settings: Settings, log_id: int,
             now: datetime) -> EmailMessage:
    with session_scope(factory) as session:
        row = digests.get_log(session, log_id)
        subscription = digests.get_subscription(session, row.subscription_id)
        digest = compose(session, settings, DigestSpec.of(subscription),
                         parse_period(row.period))
        link = unsubscribe_url(settings.public_base_url, subscription, signing_key(settings))
        sender = sender_address(settings)
        return build_message(
            render(digest, charts(digest), unsubscribe_url=link,
                   lexicon=settings.determinants_file),
            sender=sender, recipient=subscription.email,
            message_id=message_id(subscription.id, row.period, sender),
            unsubscribe_url=link, date=now)


def _failed(writer: sessionmaker[Session], settings: Settings, log_id: int, label: str,
            error: str, *, permanent: bool, last_try: bool, now: datetime,
            report: SendReport) -> None:
    """Record a failed try: for good, for a later run, or (not the last try) ours again,
    so that a crash while waiting leaves a claim that others take over."""
    with session_scope(writer) as session:
        tries = digests.attempts(session, log_id) + 1
        if permanent or (last_try and tries >= settings.digest_max_attempts):
            digests.note_failure(session, log_id, DigestStatus.FAILED, error)
            report.failed.append(f"{label}: {error}")
            log.error("digest %s not sent: %s", label, error)
        elif last_try:
            later = now + timedelta(seconds=max(60.0, settings.smtp_backoff_seconds * 2 ** tries))
            digests.note_failure(session, log_id, DigestStatus.RETRY, error,
                                 next_attempt_at=later)
            report.deferred.append(f"{label}: {error}")
            log.warning("digest %s deferred until %s: %s", label, later, error)
        else:
            digests.note_failure(session, log_id, DigestStatus.CLAIMED, error,
                                 claimed_at=utcnow())


def deliver(factory: sessionmaker[Session], writer: sessionmaker[Session], settings: Settings,
            log_id: int, claimant: str, transport: Transport, report: SendReport, *,
            now: datetime, sleep: Callable[[float], None] = time.sleep) -> None:
    """Compose and send one claimed digest (reading with ``factory``), recording how it went
    (writing with ``writer``)."""
    with session_scope(factory) as session:
        row = digests.get_log(session, log_id)
        subscription = digests.get_subscription(session, row.subscription_id)
        label = f"{subscription.email} {row.period}"
        ended = subscription.unsubscribed_at is not None
    if ended:
        with session_scope(writer) as session:
            digests.drop_claim(session, log_id)
        return
    try:
        message = _message(factory, settings, log_id, now)
    except Exception as exc:  # a digest that cannot be composed must not stop the others
        log.exception("digest %s could not be composed", label)
        _failed(writer, settings, log_id, label, f"could not be composed: {exc!r}",
                permanent=False, last_try=True, now=now, report=report)
        return
    for attempt in range(settings.smtp_retries + 1):
        try:
            with transport.connect() as connection:
                with session_scope(writer) as session:
                    if not digests.start_sending(session, log_id, claimant):
                        log.info("digest %s was taken by another sender", label)
                        return
                connection.send(message)
        except MailError as exc:
            last_try = exc.permanent or attempt == settings.smtp_retries
            _failed(writer, settings, log_id, label, str(exc), permanent=exc.permanent,
                    last_try=last_try, now=now, report=report)
            if last_try:
                return
            sleep(settings.smtp_backoff_seconds * 2 ** attempt)
            continue
        with session_scope(writer) as session:
            digests.mark_sent(session, log_id, str(message["Message-ID"]))
        report.sent.append(label)
        log.info("digest %s sent", label)
        return
