"""The phone-queues job: collected figures judged on schedule, the team called in once, the
notices sent after the activation is committed, a refused e-mail recorded as such, and
another channel (an SMS gateway) plugged in through the Notifier interface."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import ecoute.scheduler.leader as scheduler_mod
from ecoute.config.settings import Settings
from ecoute.digest.backup_notices import CallNotice, call_of, notice_text
from ecoute.digest.tokens import signing_key
from ecoute.errors import MailError
from ecoute.scheduler.phone import after_call_log_run, check_phone_queues
from ecoute.store.authorities import ensure_authority
from ecoute.store.db import session_scope
from ecoute.store.models import (
    BackupActivation,
    BackupCall,
    BackupTeam,
    CallStat,
    CallStatus,
    PhoneOverload,
)
from ecoute.store.sources import add_source
from ecoute.store.volunteers import add_member, add_team, add_volunteer
from tests.helpers.phone_queue import overloaded_queue
from tests.helpers.smtp_server import SmtpServer

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)


class Texts:
    """An SMS gateway as a test sees it: what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[CallNotice] = []

    def send(self, notice: CallNotice) -> None:
        if notice.phone is None:
            raise MailError("no phone number", permanent=True, hint="add one")
        self.sent.append(notice)


def _overloaded_queue(factory: sessionmaker[Session]) -> None:
    """Valmont's "Accueil" lost 6 of 20 calls over the last half hour; Anne and Bruno are its
    team, Bruno without a phone number."""
    overloaded_queue(factory, NOW, [("Anne", "0601020304"), ("Bruno", None)])


def test_the_job_calls_the_team_once_through_another_channel(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    _overloaded_queue(factory)
    texts = Texts()
    outcome = check_phone_queues(factory, settings, now=NOW, notifier=texts)
    assert (outcome["opened"], outcome["activated"], outcome["notified"],
            outcome["failed"]) == (1, 1, 1, 1)
    assert [n.volunteer_name for n in texts.sent] == ["Anne"]
    notice = texts.sent[0]
    assert notice.figures == {"abandon_rate": 0.3} and notice.queue == "Accueil"
    assert "30%" in notice_text(notice) and notice.accept_url in notice_text(notice)
    with session_scope(factory) as session:
        calls = {c.volunteer_id: c for c in session.scalars(select(BackupCall))}
        statuses = sorted((c.status, c.error or "") for c in calls.values())
        token = notice.accept_url.split("/")[-2]
        assert call_of(session, token, signing_key(settings)).status == CallStatus.NOTIFIED
    assert statuses == [("failed", "no phone number (add one)"), ("notified", "")]
    again = check_phone_queues(factory, settings, now=NOW + timedelta(minutes=5),
                               notifier=texts)
    assert (again["opened"], again["activated"], again["notified"]) == (0, 0, 0)


def test_the_leader_runs_it_and_sends_e_mails(
    factory: sessionmaker[Session], settings: Settings, smtp_server: SmtpServer,
) -> None:
    _overloaded_queue(factory)
    job = scheduler_mod.PERIODIC["phone-queues"]
    assert job.trigger(settings).interval == timedelta(minutes=settings.phone_check_minutes)
    mail = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port,
                                       "smtp_security": "none"})
    smtp_server.answers.append("550 5.1.1 no such user")  # Anne's address bounces
    outcome = job.func(scheduler_mod.JobContext(factory, mail))
    assert outcome == {"opened": 1, "closed": 0, "activated": 1, "notified": 1, "deferred": 0,
                       "failed": 1}
    assert [r[0] for r in smtp_server.recipients] == ["bruno@valmont.example"]
    with session_scope(factory) as session:
        errors = [c.error for c in session.scalars(select(BackupCall).order_by(BackupCall.id))]
    assert "550" in (errors[0] or "") and errors[1] is None


def test_a_call_log_run_that_brings_figures_is_judged_at_once(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    _overloaded_queue(factory)
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        feed = add_source(session, valmont.id, name="avis", kind="rss", options={}).id
        acd = session.scalar(select(CallStat.source_id))
    after_call_log_run(factory, settings, feed, 5)  # not phone figures
    after_call_log_run(factory, settings, acd, 0)  # nothing new
    with session_scope(factory) as session:
        assert session.scalars(select(PhoneOverload)).all() == []
    after_call_log_run(factory, settings.model_copy(update={"smtp_port": 1}), acd, 2)
    with session_scope(factory) as session:
        assert [o.queue for o in session.scalars(select(PhoneOverload))] == ["Accueil"]
        # Nothing listens on port 1: the calls wait for the next try, the run goes on.
        assert {(c.status, c.error is not None) for c in
                session.scalars(select(BackupCall))} == {("pending", True)}


def test_a_busy_mail_server_gets_the_notice_again_while_the_overload_lasts(
    factory: sessionmaker[Session], settings: Settings, smtp_server: SmtpServer,
) -> None:
    _overloaded_queue(factory)
    mail = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port,
                                       "smtp_security": "none"})
    smtp_server.answers += ["451 4.3.0 busy", "451 4.3.0 busy"]
    first = check_phone_queues(factory, mail, now=NOW)
    assert (first["deferred"], first["notified"]) == (2, 0)
    with session_scope(factory) as session:
        assert {(c.status, "451" in (c.error or "")) for c in
                session.scalars(select(BackupCall))} == {("pending", True)}
    second = check_phone_queues(factory, mail, now=NOW + timedelta(minutes=5))
    assert (second["deferred"], second["notified"]) == (0, 2)
    assert sorted(r[0] for r in smtp_server.recipients) == ["anne@valmont.example",
                                                           "bruno@valmont.example"]


def test_a_team_created_during_an_overload_is_called_at_the_next_check(
    factory: sessionmaker[Session], settings: Settings,
) -> None:
    """The queue is overloaded before Valmont has a team for it; the team made then is called
    at the next check, and so is Chloé when she joins it later, without calling Anne twice."""
    overloaded_queue(factory, NOW, volunteers=None)
    texts = Texts()
    first = check_phone_queues(factory, settings, now=NOW, notifier=texts)
    assert (first["opened"], first["activated"], texts.sent) == (1, 0, [])
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        team = add_team(session, valmont.id, name="Renfort", queue="Accueil",
                        department_id=None, thresholds={})
        add_member(session, team, add_volunteer(session, valmont.id, name="Anne",
                                                email="anne@valmont.example", phone="0601"))
    later = NOW + timedelta(minutes=5)
    second = check_phone_queues(factory, settings, now=later, notifier=texts)
    assert (second["opened"], second["activated"], second["notified"]) == (0, 1, 1)
    assert [n.volunteer_name for n in texts.sent] == ["Anne"]
    with session_scope(factory) as session:
        valmont = ensure_authority(session, "valmont")
        activation = session.scalars(select(BackupActivation)).one()
        assert activation.started_at.replace(tzinfo=timezone.utc) == later
        team = session.scalars(select(BackupTeam)).one()
        add_member(session, team, add_volunteer(session, valmont.id, name="Chloé",
                                                email="chloe@valmont.example", phone="0602"))
    third = check_phone_queues(factory, settings, now=later + timedelta(minutes=5),
                               notifier=texts)
    assert (third["activated"], third["notified"]) == (0, 1)
    assert [n.volunteer_name for n in texts.sent] == ["Anne", "Chloé"]
    fourth = check_phone_queues(factory, settings, now=later + timedelta(minutes=10),
                                notifier=texts)
    assert fourth["notified"] == 0 and len(texts.sent) == 2
