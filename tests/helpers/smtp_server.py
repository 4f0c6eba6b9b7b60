"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, parsed by the
standard ``email`` package, and can be told to defer (4xx) or refuse (5xx) messages."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
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


class _Handler:
    def __init__(self, state: SmtpServer) -> None:
        self.state = state

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.state.answers:
            return self.state.answers.pop(0)
        self.state.messages.append(
            message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.state.recipients.append(list(envelope.rcpt_tos))
        return "250 2.0.0 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain (no TLS) SMTP server on a free port of 127.0.0.1, with optional AUTH."""
    state = SmtpServer()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and state.logins.get(
            data.login.decode()) == data.password.decode()
        if ok:
            state.logged_in.append(data.login.decode())
        # handled=False: the server answers 535 itself.
        return AuthResult(success=ok, handled=ok, auth_data=data)

    # aiosmtpd narrates each connection (and a client closing without QUIT, as a refused
    # STARTTLS does) from its own thread, possibly after pytest closed the test's log capture.
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.CRITICAL)
    state.port = _free_port()
    controller = Controller(_Handler(state), hostname="127.0.0.1", port=state.port,
                            authenticator=authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield state
    finally:
        controller.stop()
        server_log.setLevel(level)
