"""The volunteers' calls posted to a webhook: a real HTTP server on 127.0.0.1 checks the
signature and reads the body; answers "later" are retried, a refusal is recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings
from ecoute.digest.backup_notices import CallNotice, EmailNotifier, call_of
from ecoute.digest.backup_webhook import WebhookNotifier, notifier_for
from ecoute.digest.tokens import signing_key
from ecoute.errors import MailError
from ecoute.scheduler.phone import check_phone_queues
from ecoute.store.db import session_scope
from ecoute.store.models import BackupCall, CallStatus
from tests.helpers.local_http import serving
from tests.helpers.phone_queue import overloaded_queue

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
SECRET = "partagé-avec-la-passerelle"


@dataclass
class Receiver:
    """A webhook receiver: answers each POST with the next scripted status (200 when none
    are left) and keeps what it got."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as base_url:
        state.url = f"{base_url}/sms"
        yield state


def _verified(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The body, after checking its signature the way a receiver is told to."""
    stamp = headers["x-ecoute-timestamp"]
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(headers["x-ecoute-signature"], "sha256=" + expected.hexdigest())
    assert abs(int(stamp) - datetime.now(timezone.utc).timestamp()) < 60
    assert headers["content-type"].startswith("application/json")
    payload: dict[str, Any] = json.loads(body)
    return payload


def _overloaded_queue(factory: sessionmaker[Session]) -> None:
    """Valmont's "Accueil" lost 6 of 20 calls over the last half hour; Anne is its team."""
    overloaded_queue(factory, NOW, [("Anne", "+33601020304")])


def _webhook(settings: Settings, url: str) -> Settings:
    return settings.model_copy(update={"backup_webhook_url": url,
                                       "backup_webhook_secret": SECRET,
                                       "backup_webhook_backoff_seconds": 0.0})


def test_the_job_posts_a_signed_notice_retried_once_the_receiver_is_back(
    factory: sessionmaker[Session], settings: Settings, receiver: Receiver,
) -> None:
    _overloaded_queue(factory)
    hooked = _webhook(settings, receiver.url)
    receiver.statuses = [503]  # busy once: retried at once, taken the second time
    outcome = check_phone_queues(factory, hooked, now=NOW)
    assert (outcome["activated"], outcome["notified"], outcome["failed"]) == (1, 1, 0)
    assert len(receiver.received) == 2
    payload = _verified(*receiver.received[-1])
    assert payload["event"] == "backup_call" and payload["queue"] == "Accueil"
    assert payload["team"] == "Renfort" and payload["authority"] == "valmont"
    assert payload["figures"] == {"abandon_rate": 0.3}
    assert payload["volunteer"] == {"name": "Anne", "email": "anne@valmont.example",
                                    "phone": "+33601020304"}
    # The first quarter hour alone already lost 3 of 10 calls: overloaded from its end.
    assert datetime.fromisoformat(payload["overloaded_since"]) == NOW - timedelta(minutes=15)
    assert payload["accept_url"] in payload["text"] and "30%" in payload["text"]
    token = payload["accept_url"].split("/")[-2]
    assert payload["decline_url"] == payload["accept_url"].replace("/accept", "/decline")
    with session_scope(factory) as session:
        call = call_of(session, token, signing_key(hooked))
        assert call.status == CallStatus.NOTIFIED and call.error is None


def test_a_refusal_is_recorded_and_a_silent_receiver_waits_for_the_next_check(
    factory: sessionmaker[Session], settings: Settings, receiver: Receiver,
) -> None:
    _overloaded_queue(factory)
    hooked = _webhook(settings, receiver.url).model_copy(update={"backup_webhook_retries": 1})
    receiver.statuses = [503, 503]  # busy for both tries of this check
    first = check_phone_queues(factory, hooked, now=NOW)
    assert (first["deferred"], first["notified"], len(receiver.received)) == (1, 0, 2)
    with session_scope(factory) as session:
        [call] = session.scalars(select(BackupCall))
        assert call.status == CallStatus.PENDING and "503" in (call.error or "")
    second = check_phone_queues(factory, hooked, now=NOW + timedelta(minutes=5))
    assert second["notified"] == 1 and len(receiver.received) == 3

    notifier = WebhookNotifier(hooked)
    receiver.statuses = [401]  # the receiver does not know the secret: no retry
    notice_body = receiver.received[-1][1]
    with pytest.raises(MailError) as refused:
        notifier.send(_notice_from(json.loads(notice_body)))
    assert refused.value.permanent and "401" in str(refused.value)
    assert len(receiver.received) == 4
    closed = WebhookNotifier(hooked, url="http://127.0.0.1:1/nobody")
    with pytest.raises(MailError) as unreachable:
        closed.send(_notice_from(json.loads(notice_body)))
    assert not unreachable.value.permanent


def _notice_from(payload: dict[str, Any]) -> CallNotice:
    return CallNotice(
        authority=payload["authority"], team=payload["team"], queue=payload["queue"],
        since_local=datetime.fromisoformat(payload["overloaded_since"]),
        figures=payload["figures"], volunteer_name=payload["volunteer"]["name"],
        email=payload["volunteer"]["email"], phone=payload["volunteer"]["phone"],
        accept_url=payload["accept_url"], decline_url=payload["decline_url"])


def test_the_channel_follows_the_settings(settings: Settings) -> None:
    assert isinstance(notifier_for(settings), EmailNotifier)
    assert isinstance(notifier_for(_webhook(settings, "http://127.0.0.1:9/x")),
                      WebhookNotifier)
    with pytest.raises(ValidationError, match="BACKUP_WEBHOOK_SECRET"):
        Settings(backup_webhook_url="https://sms.example/hook")
    shown = _webhook(settings, "https://sms.example/hook").shown()
    assert shown["backup_webhook_secret"] == "(hidden)" and SECRET not in str(shown)
