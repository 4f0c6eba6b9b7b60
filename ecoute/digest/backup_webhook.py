"""The volunteers' calls posted to a web address: the other channel beside e-mail (an SMS
gateway, a chat tool, the authority's own alerting), so that no gateway is built in.

Each notice is one JSON ``POST`` to ``backup_webhook_url``, signed so that the receiver can
tell it comes from ecoute and was not replayed later:

    X-Ecoute-Timestamp: <seconds since 1970, UTC>
    X-Ecoute-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body, keyed with
                        backup_webhook_secret>

A 2xx answer is a notice delivered. A connection error, a timeout, 408, 429 or a 5xx is
retried at once (``backup_webhook_retries`` times, the wait doubling), then left for the next
check while the overload lasts; any other answer (a 4xx: wrong address, refused signature) is
a failure recorded on the call, since sending the same body again would be refused the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from ecoute.config.settings import Settings
from ecoute.digest.backup_notices import CallNotice, EmailNotifier, Notifier, notice_text
from ecoute.errors import ConfigError, MailError

SIGNATURE_HEADER = "X-Ecoute-Signature"
TIMESTAMP_HEADER = "X-Ecoute-Timestamp"
#: Answers that say "not now" rather than "never".
RETRIED = frozenset({408, 425, 429})


def notice_payload(notice: CallNotice) -> dict[str, Any]:
    """The JSON body: the activation, the queue, the figures, the volunteer and the links, and
    the text an SMS gateway may send as it is."""
    return {
        "event": "backup_call",
        "authority": notice.authority,
        "team": notice.team,
        "queue": notice.queue,
        "overloaded_since": notice.since_local.isoformat(),
        "figures": notice.figures,
        "volunteer": {"name": notice.volunteer_name, "email": notice.email,
                      "phone": notice.phone},
        "accept_url": notice.accept_url,
        "decline_url": notice.decline_url,
        "text": notice_text(notice),
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The value of ``X-Ecoute-Signature`` for this body sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


class WebhookNotifier:
    """Posts each notice to ``url`` (``backup_webhook_url`` by default)."""

    def __init__(self, settings: Settings, *, url: str | None = None,
                 secret: str | None = None, transport: httpx.BaseTransport | None = None,
                 ) -> None:
        url, secret = url or settings.backup_webhook_url, secret or settings.backup_webhook_secret
        if not url or not secret:
            raise ConfigError("a webhook for the volunteers' calls needs an address and a secret",
                              hint="set ECOUTE_BACKUP_WEBHOOK_URL and "
                              "ECOUTE_BACKUP_WEBHOOK_SECRET")
        self.url, self.secret = url, secret
        self.timeout = settings.backup_webhook_timeout
        self.retries = settings.backup_webhook_retries
        self.backoff = settings.backup_webhook_backoff_seconds
        self.transport = transport

    def send(self, notice: CallNotice) -> None:
        body = json.dumps(notice_payload(notice), ensure_ascii=False).encode()
        wait, error = self.backoff, None
        with httpx.Client(timeout=self.timeout, transport=self.transport,
                          follow_redirects=False) as client:
            for attempt in range(self.retries + 1):
                if attempt:
                    time.sleep(wait)
                    wait *= 2
                # Signed at each try: the timestamp says when this attempt was made.
                stamp = str(int(time.time()))
                headers = {"Content-Type": "application/json; charset=utf-8",
                           TIMESTAMP_HEADER: stamp,
                           SIGNATURE_HEADER: signature(self.secret, stamp, body)}
                try:
                    response = client.post(self.url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    error = MailError(f"the webhook {self.url} could not be reached "
                                      f"({type(exc).__name__})", permanent=False,
                                      hint="tried again at the next check")
                    continue
                if response.is_success:
                    return
                status = response.status_code
                later = status >= 500 or status in RETRIED
                error = MailError(f"the webhook {self.url} answered {status}",
                                  permanent=not later,
                                  hint="tried again at the next check" if later else
                                  "check ECOUTE_BACKUP_WEBHOOK_URL and that the receiver "
                                  "knows ECOUTE_BACKUP_WEBHOOK_SECRET")
                if not later:
                    raise error
        assert error is not None
        raise error


def notifier_for(settings: Settings) -> Notifier:
    """The webhook when ``backup_webhook_url`` is set, else the e-mail."""
    if settings.backup_webhook_url:
        return WebhookNotifier(settings)
    return EmailNotifier(settings)
