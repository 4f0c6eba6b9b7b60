"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, parsed by the
standard ``email`` package, and can be told to defer (4xx) or refuse (5xx) messages; plain,
or with TLS (STARTTLS or from the first byte) on a certificate made by ``openssl`` for the
test (Debian package ``openssl``, which CI installs)."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class SmtpServer:
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    #: Answers to the next DATA commands instead of accepting ("451 4.3.0 busy", "550 ...").
    answers: list[str] = field(default_factory=list)
    #: user → password accepted by AUTH; empty: any login accepted (none asked for).
    logins: dict[str, str] = field(default_factory=dict)
    logged_in: list[str] = field(default_factory=list)
    #: Whether each accepted message came over TLS.
    encrypted: list[bool] = field(default_factory=list)
    #: The certificate authority that signed the server's certificate (TLS servers).
    ca_file: Path | None = None


class _Handler:
    def __init__(self, state: SmtpServer) -> None:
        self.state = state

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.state.answers:
            return self.state.answers.pop(0)
        self.state.messages.append(
            message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.state.recipients.append(list(envelope.rcpt_tos))
        self.state.encrypted.append(
            server.transport.get_extra_info("ssl_object") is not None)
        return "250 2.0.0 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _certificate(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        reason = "openssl is not installed (Debian: apt-get install openssl)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must install it")
        pytest.skip(reason)
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@contextmanager
def running_smtp(tls: str | None = None, folder: Path | None = None) -> Iterator[SmtpServer]:
    """``tls``: None (plain), ``starttls`` (offered and required) or ``ssl`` (from the first
    byte); a TLS server's certificate goes in ``folder``."""
    state = SmtpServer()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and state.logins.get(
            data.login.decode()) == data.password.decode()
        if ok:
            state.logged_in.append(data.login.decode())
        # handled=False: the server answers 535 itself.
        return AuthResult(success=ok, handled=ok, auth_data=data)

    options: dict[str, Any] = {}
    if tls is not None:
        assert folder is not None
        cert, key = _certificate(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        state.ca_file = cert  # self-signed: its own authority
        options = ({"ssl_context": context} if tls == "ssl"
                   else {"tls_context": context, "require_starttls": True})
    # aiosmtpd narrates each connection (and a client closing without QUIT, as a refused
    # STARTTLS does) from its own thread, possibly after pytest closed the test's log capture.
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.CRITICAL)
    state.port = _free_port()
    controller = Controller(_Handler(state), hostname="127.0.0.1", port=state.port,
                            authenticator=authenticate, auth_require_tls=False, **options)
    controller.start()
    try:
        yield state
    finally:
        controller.stop()
        server_log.setLevel(level)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain (no TLS) SMTP server on a free port of 127.0.0.1, with optional AUTH."""
    with running_smtp() as state:
        yield state
