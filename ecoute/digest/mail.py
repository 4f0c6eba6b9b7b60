"""A rendered digest as an e-mail, and the SMTP connection that sends it (standard library).

The message is ``multipart/alternative``: the plain text, then ``multipart/related`` holding
the HTML and its charts, which the HTML names by ``cid:``. A mail server's answer is sorted
into what may work later (4xx, a lost connection) and what will not (5xx, bad credentials,
a server without the TLS asked for): ``MailError.permanent``.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from ecoute.config.settings import Settings
from ecoute.digest.charts import content_id
from ecoute.digest.render import Rendered
from ecoute.errors import ConfigError, MailError

DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}


def build_message(rendered: Rendered, *, sender: str, recipient: str, message_id: str,
                  unsubscribe_url: str | None, date: datetime) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        # RFC 8058: mail clients may unsubscribe with one POST to the same address.
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    html = message.get_payload()[1]  # type: ignore[index]
    assert isinstance(html, EmailMessage)
    for chart in rendered.charts:
        html.add_related(chart.png, maintype="image", subtype="png",
                         cid=f"<{content_id(chart)}>", filename=f"{chart.name}.png",
                         disposition="inline")
    return message


def message_id(subscription_id: int, period: str, sender: str) -> str:
    """The same for every attempt at one digest, so that a receiving server that saw it
    already can tell it is the same message."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "ecoute.invalid"
    return f"<digest-{subscription_id}-{period}@{domain}>"


def _password(settings: Settings) -> str | None:
    if settings.smtp_password_file is not None:
        try:
            return settings.smtp_password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(
                f"cannot read the mail server password file {settings.smtp_password_file}: "
                f"{exc.strerror or exc}", hint="fix ECOUTE_SMTP_PASSWORD_FILE") from exc
    return settings.smtp_password


def _classify(exc: Exception, host: str) -> MailError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        answers = "; ".join(f"{addr}: {code} {text.decode(errors='replace')}"
                            for addr, (code, text) in exc.recipients.items())
        return MailError(f"the mail server refused the recipient ({answers})",
                         permanent=all(code >= 500 for code in codes),
                         hint="check the subscription's address")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return MailError(f"the mail server {host} refused the user name or password "
                         f"({exc.smtp_code})", permanent=True,
                         hint="check ECOUTE_SMTP_USERNAME and the password setting")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return MailError(f"the mail server {host} does not offer what ecoute asked: {exc}",
                         permanent=True, hint="check ECOUTE_SMTP_SECURITY and ECOUTE_SMTP_PORT")
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return MailError(f"the mail server {host} answered {exc.smtp_code} {text}",
                         permanent=exc.smtp_code >= 500,
                         hint=None if exc.smtp_code < 500 else "the server's answer says why")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailError(f"the certificate of the mail server {host} is not valid: "
                         f"{exc.verify_message}", permanent=True,
                         hint="check ECOUTE_SMTP_HOST (the name on the certificate)")
    return MailError(f"cannot talk to the mail server {host}: {exc}", permanent=False,
                     hint="check ECOUTE_SMTP_HOST and ECOUTE_SMTP_PORT, and that it is up")


def _tls_context(settings: Settings) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=settings.smtp_ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot read the certificate authorities of the mail server from "
                          f"{settings.smtp_ca_file}: {exc}",
                          hint="fix ECOUTE_SMTP_CA_FILE (a PEM file) or empty it") from exc


class Connection:
    def __init__(self, smtp: smtplib.SMTP, host: str) -> None:
        self.smtp = smtp
        self.host = host

    def send(self, message: EmailMessage) -> None:
        sender = parseaddr(str(message["From"]))[1]
        try:
            self.smtp.send_message(message, from_addr=sender)
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify(exc, self.host) from exc


class SmtpTransport:
    """Opens SMTP connections as the settings say: TLS from the start (``ssl``), upgraded
    (``starttls``, refused if the server does not offer it) or none, then logs in."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        s = self.settings
        port = s.smtp_port or DEFAULT_PORTS[s.smtp_security]
        context = _tls_context(s)
        smtp: smtplib.SMTP | None = None
        try:
            if s.smtp_security == "ssl":
                smtp = smtplib.SMTP_SSL(s.smtp_host, port, timeout=s.smtp_timeout,
                                        context=context)
            else:
                smtp = smtplib.SMTP(s.smtp_host, port, timeout=s.smtp_timeout)
            smtp.ehlo()
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_username:
                smtp.login(s.smtp_username, _password(s) or "")
        except (smtplib.SMTPException, OSError) as exc:
            if smtp is not None:
                smtp.close()
            raise _classify(exc, s.smtp_host) from exc
        try:
            yield Connection(smtp, s.smtp_host)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def sender_address(settings: Settings) -> str:
    """``mail_from`` checked: a clear error now instead of a refusal by the server later."""
    name, address = parseaddr(settings.mail_from)
    if "@" not in address:
        raise ConfigError(f"the digest sender {settings.mail_from!r} has no e-mail address",
                          hint="set ECOUTE_MAIL_FROM to e.g. 'Ecoute <ecoute@example.org>'")
    return str(Address(display_name=name, addr_spec=address))
