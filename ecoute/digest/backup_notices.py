"""Calling the back-up volunteers: the notice of an activation, sent to each volunteer by a
``Notifier`` (e-mail through the digests' mail server here, a web address in
``backup_webhook``; anything else is a class with the same ``send``), with signed accept and
decline links.

The calls to send are those ``ecoute.assessment.backup_team`` wrote ``pending``; each is taken
by one sender (``claim_pending_calls``) and ends ``notified``, or ``failed`` with the reason, or
``pending`` again when the mail server asked to try later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings
from ecoute.digest.mail import SmtpTransport, sender_address
from ecoute.digest.tokens import signature_matches, signed_token, signing_key, token_id
from ecoute.errors import BackupCallNotFound, MailError
from ecoute.store.db import session_scope
from ecoute.store.models import (
    Authority,
    BackupActivation,
    BackupCall,
    BackupTeam,
    CallStatus,
    PhoneOverload,
    Volunteer,
    utcnow,
)
from ecoute.store.volunteers import claim_pending_calls

log = logging.getLogger(__name__)

#: Signed before the id, so that no other signed link of ecoute opens a call.
PURPOSE = "backup-call:"
FIGURE_NAMES = {"abandon_rate": "appels abandonnés / abandoned calls",
                "avg_wait_seconds": "attente moyenne / average wait",
                "calls_waiting": "appels en attente / calls waiting",
                "service_level": "niveau de service / service level"}


def call_token(call: BackupCall, key: bytes) -> str:
    return signed_token(call.id, call.token_salt, key, PURPOSE)


def call_url(base_url: str, call: BackupCall, action: str, key: bytes) -> str:
    return f"{base_url.rstrip('/')}/backup-calls/{call_token(call, key)}/{action}"


def call_of(session: Session, token: str, key: bytes) -> BackupCall:
    """The call a token was signed for; the same answer for a bad signature and an unknown id,
    so that ids cannot be probed."""
    invalid = BackupCallNotFound("this link is not valid",
                                 hint="use the links of the latest e-mail, or call the "
                                 "reception team")
    parsed = token_id(token)
    if parsed is None:
        raise invalid
    call = session.get(BackupCall, parsed[0])
    if call is None or not signature_matches(call.id, call.token_salt, parsed[1], key, PURPOSE):
        raise invalid
    return call


@dataclass(frozen=True)
class CallNotice:
    """What a volunteer is told: which queue needs them, since when, why, and the links."""

    authority: str
    team: str
    queue: str
    since_local: datetime
    figures: dict[str, float]
    volunteer_name: str
    email: str
    phone: str | None
    accept_url: str
    decline_url: str


class Notifier(Protocol):
    def send(self, notice: CallNotice) -> None:
        """Deliver the notice; raise ``MailError`` (or another ``EcouteError``) when it cannot."""


def _figures_text(figures: dict[str, float]) -> str:
    shown = []
    for name, value in figures.items():
        text = f"{value:.0%}" if name in ("abandon_rate", "service_level") else (
            f"{value:.0f} s" if name == "avg_wait_seconds" else f"{value:.0f}")
        shown.append(f"{FIGURE_NAMES.get(name, name)} : {text}")
    return "; ".join(shown)


def notice_text(notice: CallNotice) -> str:
    """The message, in French then English (volunteers read one or the other)."""
    when = f"{notice.since_local:%d/%m/%Y %H:%M}"
    figures = _figures_text(notice.figures)
    return (
        f"Bonjour {notice.volunteer_name},\n\n"
        f"La file téléphonique « {notice.queue} » ({notice.authority}) est saturée depuis "
        f"{when} ({figures}). L'équipe de renfort « {notice.team} » est appelée.\n\n"
        f"Je viens en renfort : {notice.accept_url}\n"
        f"Je ne suis pas disponible : {notice.decline_url}\n\n"
        f"Hello {notice.volunteer_name},\n\n"
        f"The phone queue \"{notice.queue}\" ({notice.authority}) has been overloaded since "
        f"{when}. The back-up team \"{notice.team}\" is called in.\n\n"
        f"I can help: {notice.accept_url}\n"
        f"I am not available: {notice.decline_url}\n"
    )


class EmailNotifier:
    """Sends notices through the mail server the digests use (``ECOUTE_SMTP_*``)."""

    def __init__(self, settings: Settings, transport: SmtpTransport | None = None) -> None:
        self.settings = settings
        self.transport = transport or SmtpTransport(settings)

    def send(self, notice: CallNotice) -> None:
        sender = sender_address(self.settings)
        message = EmailMessage()
        message["Subject"] = (f"Renfort téléphonique demandé : {notice.queue} / "
                              f"Phone back-up needed: {notice.queue}")
        message["From"] = sender
        message["To"] = notice.email
        message["Date"] = format_datetime(utcnow())
        domain = parseaddr(sender)[1].rpartition("@")[2] or "ecoute.invalid"
        message["Message-ID"] = make_msgid("backup", domain=domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(notice_text(notice))
        with self.transport.connect() as connection:
            connection.send(message)


def _notice(session: Session, call: BackupCall, settings: Settings, key: bytes) -> CallNotice:
    volunteer = session.get(Volunteer, call.volunteer_id)
    activation = session.get(BackupActivation, call.activation_id)
    assert volunteer is not None and activation is not None
    team = session.get(BackupTeam, activation.team_id)
    overload = session.get(PhoneOverload, activation.overload_id)
    authority = session.get(Authority, activation.authority_id)
    assert team is not None and overload is not None and authority is not None
    return CallNotice(
        authority=authority.name, team=team.name, queue=team.queue,
        since_local=overload.started_at.astimezone(ZoneInfo(authority.timezone)),
        figures=dict(overload.trigger.get("figures", {})), volunteer_name=volunteer.name,
        email=volunteer.email, phone=volunteer.phone,
        accept_url=call_url(settings.public_base_url, call, "accept", key),
        decline_url=call_url(settings.public_base_url, call, "decline", key))


def notify_pending_calls(factory: sessionmaker[Session], settings: Settings,
                         notifier: Notifier | None = None) -> dict[str, int]:
    """Send every pending call's notice; how many were notified, deferred (the mail server
    answered "later": tried again at the next run while the activation lasts) and failed.
    A call whose sending was cut by a crash stays ``sending``: it is not sent twice."""
    notifier = notifier or EmailNotifier(settings)
    key = signing_key(settings)
    with session_scope(factory) as session:
        taken = claim_pending_calls(session)
    outcome = {"notified": 0, "deferred": 0, "failed": 0}
    for call_id in taken:
        with session_scope(factory) as session:
            call = session.get(BackupCall, call_id)
            if call is None:
                continue
            notice = _notice(session, call, settings, key)
        error, later = None, False
        try:
            notifier.send(notice)
        except MailError as exc:
            error, later = str(exc), not exc.permanent
            log.warning("could not notify volunteer call %s: %s", call_id, exc)
        with session_scope(factory) as session:
            call = session.get(BackupCall, call_id)
            if call is None or call.status != CallStatus.SENDING:
                continue  # answered in the meantime (by another channel): keep the answer
            call.error = error
            if later:  # the server may take it later: tried again while the activation lasts
                call.status = CallStatus.PENDING
            else:
                call.status = CallStatus.FAILED if error else CallStatus.NOTIFIED
                call.notified_at = None if error else utcnow()
        outcome["deferred" if later else "failed" if error else "notified"] += 1
    return outcome
