"""Sending to a real SMTP server on 127.0.0.1: what arrives (parsed with ``email``), when it
is due, and exactly once — across crashes, concurrent senders, deferrals and refusals."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings
from ecoute.digest.mail import Connection, SmtpTransport
from ecoute.digest.send import send_due
from ecoute.digest.subscriptions import subscribe, unsubscribe
from ecoute.store.db import session_scope
from ecoute.store.digests import failed_subscriptions
from ecoute.store.models import DigestLog, DigestSubscription
from tests.digest.test_compose import HOSTILE, W47
from tests.helpers.digest_data import authority, feedback, source
from tests.helpers.smtp_server import SmtpServer

#: Monday 23 November 2026, 08:00 in Paris: the digest of 2026-W47 is due.
DUE = datetime(2026, 11, 23, 7, tzinfo=timezone.utc)


class Crash(BaseException):
    """A process dying at a chosen point (not an error anything would catch)."""


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": smtp_server.port, "smtp_security": "none",
        "mail_from": "Écoute Valmont <ecoute@valmont.example>", "smtp_timeout": 5.0,
        "public_base_url": "https://ecoute.valmont.example", "smtp_backoff_seconds": 0.0})


def _subscriber(factory: sessionmaker[Session], email: str = "dgs@valmont.example",
                **options: object) -> int:
    """A subscription made long ago (a new one does not get the digest due before it)."""
    with session_scope(factory) as session:
        owner = authority(session)
        sub = subscribe(session, owner, email=email, **options)  # type: ignore[arg-type]
        sub.created_at = datetime(2026, 1, 1, tzinfo=timezone.utc)
        return sub.id


@pytest.fixture
def subscribed(factory: sessionmaker[Session]) -> int:
    with session_scope(factory) as session:
        owner = authority(session)
        reviews = source(session, owner, "avis")
        feedback(session, reviews, W47, [("courtesy", "positive")], times=20)
        feedback(session, reviews, W47, [("courtesy", "negative")], times=15)
        feedback(session, reviews, W47, [("courtesy", "negative")], text=HOSTILE,
                 confidence=0.99)
    return _subscriber(factory)


def _logs(factory: sessionmaker[Session]) -> list[DigestLog]:
    with session_scope(factory) as session:
        return list(session.scalars(select(DigestLog).order_by(DigestLog.id)))


def _parts(message: EmailMessage) -> tuple[str, str, list[EmailMessage]]:
    assert message.get_content_type() == "multipart/alternative"
    text_part, related = message.get_payload()  # type: ignore[misc]
    assert text_part.get_content_type() == "text/plain"
    if related.get_content_type() == "text/html":  # no chart: nothing to relate
        return text_part.get_content(), related.get_content(), []
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    return text_part.get_content(), html_part.get_content(), images


def test_a_due_digest_arrives_once_with_both_parts_and_inline_charts(
        subscribed: int, factory: sessionmaker[Session], mail_settings: Settings,
        smtp_server: SmtpServer) -> None:
    report = send_due(factory, mail_settings, now=DUE)
    assert report.sent == ["dgs@valmont.example 2026-W47"], report
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert smtp_server.recipients == [["dgs@valmont.example"]]
    assert smtp_server.encrypted == [False]  # smtp_security = none
    assert message["To"] == "dgs@valmont.example"
    assert message["From"].addresses[0].addr_spec == "ecoute@valmont.example"
    assert message["Subject"] == "Valmont : ce que disent les usagers, semaine du 16 novembre 2026"
    assert message["Message-ID"] == f"<digest-{subscribed}-2026-W47@valmont.example>"
    unsubscribe_link = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe_link.startswith(f"https://ecoute.valmont.example/unsubscribe/{subscribed}.")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html, images = _parts(message)
    assert "Courtoisie" in text and HOSTILE in text and unsubscribe_link in text
    assert "&lt;script&gt;" in html and "<script" not in html and unsubscribe_link in html
    assert len(images) == 2
    for image in images:
        assert image.get_content_type() == "image/png"
        assert image.get_content().startswith(b"\x89PNG")
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
    assert 'alt="Part positive par déterminant, 2026-W47: Courtoisie 56 %' in html
    # Sent once: the next runs (this hour, next week's Tuesday) find it in the log.
    assert send_due(factory, mail_settings, now=DUE + timedelta(minutes=30)).total == 0
    assert send_due(factory, mail_settings, now=DUE + timedelta(days=1)).total == 0
    assert len(smtp_server.messages) == 1
    assert [(log.period, log.status) for log in _logs(factory)] == [("2026-W47", "sent")]


def test_due_at_eight_local_time_after_the_change_to_winter_time(
        factory: sessionmaker[Session], mail_settings: Settings, smtp_server: SmtpServer) -> None:
    _subscriber(factory)
    # 2026-W43 ends on Sunday 25 October, the night clocks go back: Monday 08:00 is 07:00 UTC.
    monday = datetime(2026, 10, 26, 6, 59, tzinfo=timezone.utc)
    assert send_due(factory, mail_settings, now=monday).total == 0
    assert send_due(factory, mail_settings, now=monday + timedelta(minutes=1)).total == 1
    assert smtp_server.messages[0]["Subject"].endswith("semaine du 19 octobre 2026")
    _, html, images = _parts(smtp_server.messages[0])
    assert "Pas assez de données pour cette période" in html and images == []


def test_nothing_is_sent_to_a_new_or_an_ended_subscription(
        subscribed: int, factory: sessionmaker[Session], mail_settings: Settings,
        smtp_server: SmtpServer) -> None:
    with session_scope(factory) as session:
        unsubscribe(session.get(DigestSubscription, subscribed))  # type: ignore[arg-type]
        # Made after the W47 digest was due: its first digest is the next one.
        subscribe(session, authority(session), email="new@valmont.example")
    assert send_due(factory, mail_settings, now=datetime.now(timezone.utc)).total == 0
    assert smtp_server.messages == [] and _logs(factory) == []


class CrashingTransport(SmtpTransport):
    """The real transport, dying before the SMTP conversation or right after the message
    was accepted."""

    def __init__(self, settings: Settings, when: str) -> None:
        super().__init__(settings)
        self.when = when

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        if self.when == "before":
            raise Crash("died between claim and send")
        with super().connect() as connection:
            real = connection.send

            def send_then_die(message: EmailMessage) -> None:
                real(message)
                raise Crash("died after the server accepted the message")

            connection.send = send_then_die  # type: ignore[method-assign]
            yield connection


def test_a_crash_after_sending_never_sends_again(
        subscribed: int, factory: sessionmaker[Session], mail_settings: Settings,
        smtp_server: SmtpServer) -> None:
    with pytest.raises(Crash):
        send_due(factory, mail_settings, now=DUE, transport=CrashingTransport(mail_settings,
                                                                              "after"))
    assert len(smtp_server.messages) == 1
    for later in (timedelta(hours=1), timedelta(days=2)):
        assert send_due(factory, mail_settings, now=DUE + later).total == 0
    assert len(smtp_server.messages) == 1
    assert [log.status for log in _logs(factory)] == ["sending"]


def test_a_crash_before_sending_is_sent_once_on_a_later_run(
        subscribed: int, factory: sessionmaker[Session], mail_settings: Settings,
        smtp_server: SmtpServer) -> None:
    with pytest.raises(Crash):
        send_due(factory, mail_settings, now=DUE, transport=CrashingTransport(mail_settings,
                                                                              "before"))
    assert smtp_server.messages == [] and [log.status for log in _logs(factory)] == ["claimed"]
    # While the claim is fresh, the dead sender might still be working: no one else sends.
    assert send_due(factory, mail_settings, now=DUE + timedelta(minutes=5)).total == 0
    later = DUE + timedelta(seconds=mail_settings.digest_claim_seconds + 1)
    assert send_due(factory, mail_settings, now=later).sent == ["dgs@valmont.example 2026-W47"]
    assert send_due(factory, mail_settings, now=later + timedelta(hours=1)).total == 0
    assert len(smtp_server.messages) == 1
    assert [log.status for log in _logs(factory)] == ["sent"]


def test_two_schedulers_at_the_same_time_send_one_digest(
        subscribed: int, factory: sessionmaker[Session], mail_settings: Settings,
        smtp_server: SmtpServer) -> None:
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            start.wait()
            send_due(factory, mail_settings, now=DUE)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(smtp_server.messages) == 1


def test_a_deferred_digest_is_retried_then_sent(
        subscribed: int, factory: sessionmaker[Session], mail_settings: Settings,
        smtp_server: SmtpServer) -> None:
    smtp_server.answers = ["451 4.3.0 mailbox busy"] * 3  # the run's try and its 2 retries
    waits: list[float] = []
    report = send_due(factory, mail_settings.model_copy(update={"smtp_backoff_seconds": 1.0}),
                      now=DUE, sleep=waits.append)
    assert waits == [1.0, 2.0] and len(report.deferred) == 1 and "451" in report.deferred[0]
    (log,) = _logs(factory)
    assert (log.status, log.attempts) == ("retry", 3) and log.next_attempt_at is not None
    assert send_due(factory, mail_settings, now=DUE + timedelta(seconds=30)).total == 0
    assert send_due(factory, mail_settings, now=log.next_attempt_at).sent
    assert len(smtp_server.messages) == 1 and _logs(factory)[0].status == "sent"


def test_a_refusal_is_recorded_and_counted_in_the_health_view(
        subscribed: int, factory: sessionmaker[Session], mail_settings: Settings,
        smtp_server: SmtpServer) -> None:
    smtp_server.answers = ["550 5.1.1 no such mailbox"]
    report = send_due(factory, mail_settings, now=DUE)
    assert len(report.failed) == 1 and "550 5.1.1 no such mailbox" in report.failed[0]
    (log,) = _logs(factory)
    assert log.status == "failed" and "550" in (log.error or "")
    assert send_due(factory, mail_settings, now=DUE + timedelta(days=1)).total == 0
    with session_scope(factory) as session:
        assert failed_subscriptions(session) == 1


def test_deferrals_past_the_maximum_become_a_failure(
        subscribed: int, factory: sessionmaker[Session], mail_settings: Settings,
        smtp_server: SmtpServer) -> None:
    smtp_server.answers = ["421 4.7.0 try later"] * 10
    strict = mail_settings.model_copy(update={"smtp_retries": 1, "digest_max_attempts": 3})
    send_due(factory, strict, now=DUE, sleep=lambda _s: None)
    assert _logs(factory)[0].status == "retry"
    report = send_due(factory, strict, now=DUE + timedelta(hours=2), sleep=lambda _s: None)
    assert len(report.failed) == 1 and _logs(factory)[0].status == "failed"


def test_starttls_refused_by_a_server_without_it_is_a_configuration_failure(
        subscribed: int, factory: sessionmaker[Session], mail_settings: Settings,
        smtp_server: SmtpServer) -> None:
    report = send_due(factory, mail_settings.model_copy(update={"smtp_security": "starttls"}),
                      now=DUE)
    assert len(report.failed) == 1 and "ECOUTE_SMTP_SECURITY" in report.failed[0]
    assert smtp_server.messages == []


def test_the_password_comes_from_a_secret_file(
        subscribed: int, factory: sessionmaker[Session], mail_settings: Settings,
        smtp_server: SmtpServer, tmp_path: Path) -> None:
    smtp_server.logins = {"ecoute": "s3cret pass"}
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret pass\n", encoding="utf-8")
    wrong = mail_settings.model_copy(update={"smtp_username": "ecoute",
                                             "smtp_password": "wrong"})
    assert "refused the user name or password" in send_due(
        factory, wrong, now=DUE).failed[0]
    _subscriber(factory, "second@valmont.example")
    good = wrong.model_copy(update={"smtp_password_file": secret})
    assert send_due(factory, good, now=DUE).sent == ["second@valmont.example 2026-W47"]
    assert smtp_server.logged_in == ["ecoute"]


def test_a_digest_that_cannot_be_composed_is_deferred_and_the_others_go(
        subscribed: int, factory: sessionmaker[Session], mail_settings: Settings,
        smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from ecoute.digest import send

    other = _subscriber(factory, "second@valmont.example", locale="en")
    real = send.compose

    def compose_or_fail(session, settings, spec, period):  # type: ignore[no-untyped-def]
        if spec.subscription_id == subscribed:
            raise RuntimeError("a bug")
        return real(session, settings, spec, period)

    monkeypatch.setattr(send, "compose", compose_or_fail)
    report = send_due(factory, mail_settings, now=DUE)
    assert report.sent == ["second@valmont.example 2026-W47"]
    assert len(report.deferred) == 1 and "a bug" in report.deferred[0]
    assert {log.subscription_id: log.status for log in _logs(factory)} == {
        subscribed: "retry", other: "sent"}


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_the_server_s_authority_and_refused_without_it(
        security: str, subscribed: int, factory: sessionmaker[Session],
        mail_settings: Settings, tmp_path: Path) -> None:
    from tests.helpers.smtp_server import running_smtp

    with running_smtp(security, tmp_path) as server:
        tls = mail_settings.model_copy(update={"smtp_port": server.port,
                                               "smtp_security": security})
        refused = send_due(factory, tls, now=DUE)
        assert len(refused.failed) == 1 and "certificate" in refused.failed[0]
        assert "ECOUTE_SMTP_HOST" in refused.failed[0] and server.messages == []
        _subscriber(factory, "second@valmont.example")
        trusted = tls.model_copy(update={"smtp_ca_file": server.ca_file})
        assert send_due(factory, trusted, now=DUE).sent == ["second@valmont.example 2026-W47"]
        assert server.encrypted == [True]


def test_an_unreadable_authority_file_is_a_configuration_error(
        subscribed: int, factory: sessionmaker[Session], mail_settings: Settings,
        tmp_path: Path) -> None:
    from ecoute.errors import ConfigError

    broken = mail_settings.model_copy(update={"smtp_ca_file": tmp_path / "missing.pem"})
    with pytest.raises(ConfigError) as caught:
        send_due(factory, broken, now=DUE)
    assert "ECOUTE_SMTP_CA_FILE" in str(caught.value)
