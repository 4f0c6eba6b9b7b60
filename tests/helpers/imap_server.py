"""A real IMAP server for tests: Dovecot on 127.0.0.1, configured from scratch in a tmp dir.

Debian packages: ``dovecot-imapd`` (pulls ``dovecot-core``) and ``openssl`` for the test
certificate. Without them the tests that need the server are skipped, except in CI, where
they fail: CI installs them.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists()
                                      else None)

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
first_valid_uid = {uid}
first_valid_gid = {gid}
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@dataclass
class ImapServer:
    host: str
    port: int  # plain IMAP, STARTTLS offered
    tls_port: int  # implicit TLS (IMAPS)
    user: str
    password: str
    ca_file: Path

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
        conn = self.client()
        try:
            if folder != "INBOX":
                conn.create(folder)
            typ, data = conn.append(folder, f"({flags})" if flags else None, None, raw)
            assert typ == "OK", data
        finally:
            conn.logout()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _self_signed(root: Path) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
        check=True, capture_output=True,
    )


def _missing_reason() -> str | None:
    if DOVECOT is None:
        return "dovecot is not installed (Debian: apt-get install dovecot-imapd)"
    if shutil.which("openssl") is None:
        return "openssl is not installed (Debian: apt-get install openssl)"
    return None


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    """Dovecot serving one passwd-file user with a Maildir in tmp, on free loopback ports."""
    reason = _missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must install it")
        pytest.skip(reason)
    # Not under pytest's tmp_path: that is private to us (0700), and Dovecot's unprivileged
    # processes must reach their files.
    root = Path(tempfile.mkdtemp(prefix="ecoute-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir(parents=True)
    _self_signed(root)
    (root / "passwd").write_text("agent:{PLAIN}motdepasse::::::\n")
    if os.getuid() == 0:
        # Dovecot never opens mailboxes as root: mail processes run as nobody.
        mail_user = pwd.getpwnam("nobody")
        for sub in ("mail", "home"):
            os.chown(root / sub, mail_user.pw_uid, mail_user.pw_gid)
        uid, gid = mail_user.pw_uid, mail_user.pw_gid
        login_user, internal_user, internal_group = "dovenull", "dovecot", "dovecot"
    else:
        me = pwd.getpwuid(os.getuid())
        uid, gid = me.pw_uid, me.pw_gid
        login_user = internal_user = me.pw_name
        internal_group = str(gid)
    port, tls_port = _free_port(), _free_port()
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(
        root=root, uid=uid, gid=gid, port=port, tls_port=tls_port, login_user=login_user,
        internal_user=internal_user, internal_group=internal_group,
    ))
    process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() \
                        else ""
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"dovecot did not start: {output}\n{log}")
                time.sleep(0.05)
        yield ImapServer("127.0.0.1", port, tls_port, "agent", "motdepasse",
                         root / "cert.pem")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout:
            process.stdout.close()
        shutil.rmtree(root, ignore_errors=True)
