"""Emails from an IMAP folder or a local Maildir/mbox: users' messages and elected
representatives' ones (flagged by a list of senders).

IMAP: messages are read with ``BODY.PEEK`` in a read-only selection, so they stay unread for
the people who work the mailbox (unless ``mark_seen``). The cursor keeps the folder's
UIDVALIDITY and the last UID read; when the server renumbers the folder (a new UIDVALIDITY)
the folder is read again from the start and the runner's dedupe by Message-ID keeps it from
duplicating anything. Local folders are read whole at each run, with the same dedupe.
"""

from __future__ import annotations

import hashlib
import imaplib
import ipaddress
import mailbox
import os
import re
import ssl
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ecoute.collectors.base import CollectContext, Collector, CollectorOptions, RawItem, Rejected
from ecoute.collectors.kinds.mailbox_text import mail_content, parse_message
from ecoute.collectors.files.local import allowed_roots, confine
from ecoute.errors import FetchError
from ecoute.domain import Channel

FETCH_CHUNK = 50
UID_IN_RESPONSE = re.compile(rb"\bUID (\d+)")


class MailboxCollector(Collector):
    """Emails from an IMAP folder or a local Maildir/mbox (users' and elected officials')."""

    kind = "mailbox"
    channel = Channel.EMAIL
    default_schedule = "every 15 minutes"

    class Options(CollectorOptions):
        host: str | None = Field(None, description="IMAP server name; empty for `path`.")
        port: int | None = Field(
            None, ge=1, le=65535, description="IMAP port; default 993 (tls) or 143."
        )
        security: Literal["tls", "starttls", "none"] = Field(
            "tls", description="`tls` (IMAPS), `starttls`, or `none` (refused unless the "
            "server is on this machine)."
        )
        ca_file: str | None = Field(
            None, description="CA certificate (PEM) to trust for a server with an internal "
            "certificate; empty: the system's."
        )
        username: str | None = Field(None, description="IMAP login.")
        password_env: str | None = Field(
            None, description="Name of the environment variable holding the IMAP password "
            "(kept out of the database)."
        )
        folder: str = Field("INBOX", description="IMAP folder to read.")
        mark_seen: bool = Field(
            False, description="Mark messages read once collected (default: leave them unread)."
        )
        path: str | None = Field(
            None, description="A local Maildir folder or mbox file, instead of IMAP."
        )
        elected_senders: list[str] = Field(
            default_factory=list,
            description="Addresses (or `@domain`) of elected representatives: their messages "
            "get the channel `elected_feedback`.",
        )
        channel: Channel = Field(Channel.EMAIL, description="Channel of the other messages.")
        lang: str | None = Field(None, description="Language of the messages (fr, en...).")
        max_messages: int = Field(
            1000, ge=1, description="Messages read per run; the next run goes on from there."
        )

        @field_validator("elected_senders")
        @classmethod
        def _addresses(cls, values: list[str]) -> list[str]:
            cleaned = [v.strip().lower() for v in values if v.strip()]
            for value in cleaned:
                if "@" not in value:
                    raise ValueError(f"{value!r} is neither an address nor an @domain")
            return cleaned

        @model_validator(mode="after")
        def _one_location(self) -> MailboxCollector.Options:
            if bool(self.host) == bool(self.path):
                raise ValueError("give either host (IMAP) or path (Maildir or mbox), not both")
            if self.host and not (self.username and self.password_env):
                raise ValueError("IMAP needs username and password_env")
            if self.host and self.security == "none" and not _loopback(self.host):
                raise ValueError("security none sends the password in clear: only allowed "
                                 "for a server on this machine; use tls or starttls")
            return self

    options: Options

    def collect(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        if self.options.path:
            yield from self._local(ctx)
        else:
            yield from self._imap(ctx)

    # --- one message ---------------------------------------------------------------------

    def _item(self, raw: bytes, position: str, folder: str) -> RawItem | Rejected:
        try:
            content = mail_content(parse_message(raw))
        except Exception as exc:  # noqa: BLE001 - the email package raises many unrelated types
            return Rejected(raw, position, f"{position}: unreadable message "
                            f"({type(exc).__name__}: {exc})", "MalformedMessage")
        if not content.text:
            return Rejected(raw, position, f"{position}: no text once quotes and signature "
                            "are removed", "EmptyMessage")
        elected = self._is_elected(content.sender)
        external_id = content.message_id or "sha256:" + hashlib.sha256(raw).hexdigest()
        extra: dict[str, object] = {"folder": folder, "body_type": content.body_type}
        if content.attachments:
            extra["attachments"] = content.attachments
        if content.in_reply_to:
            extra["in_reply_to"] = content.in_reply_to
        if elected:
            extra["elected"] = True
        return RawItem(
            external_id=external_id[:512], text=content.text, title=content.subject,
            author=content.sender, published_at=content.published_at, lang=self.options.lang,
            channel=Channel.ELECTED_FEEDBACK if elected else self.options.channel, extra=extra,
        )

    def _is_elected(self, sender: str | None) -> bool:
        if not sender:
            return False
        domain = "@" + sender.rpartition("@")[2]
        return sender in self.options.elected_senders or domain in self.options.elected_senders

    # --- local folders -------------------------------------------------------------------

    def _local(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        location = confine(Path(self.options.path or "").expanduser(),
                           allowed_roots(ctx.settings), self.options.path)
        box: mailbox.Mailbox
        if location.is_dir() and (location / "cur").is_dir():
            box = mailbox.Maildir(location, factory=None, create=False)
        elif location.is_file():
            box = mailbox.mbox(location, factory=None, create=False)
        else:
            raise FetchError(f"{location}: neither a Maildir folder (with cur/ and new/) nor an "
                             "mbox file", hint="check the path option")
        rejected: list[str] = list(ctx.cursor.get("rejected", []))
        try:
            keys = sorted(box.keys(), key=str)
            if not keys and isinstance(box, mailbox.mbox) and _has_content(location):
                # Once in quarantine is enough: the file is read again at every run.
                digest = "file:" + file_digest(location)
                if digest in rejected:
                    return
                ctx.cursor["rejected"] = [*rejected, digest][-5000:]
                yield Rejected(
                    str(location), location.name,
                    f"{location.name}: not an mbox file (no line starts with \"From \", which "
                    "begins every message of an mbox); nothing was read from it",
                    "UnsupportedFormat")
                return
            for count, key in enumerate(keys):
                if count >= self.options.max_messages:
                    ctx.logger.info("%s: stopped after %d messages", location, count)
                    break
                try:
                    raw = box.get_bytes(key)
                except (OSError, KeyError) as exc:
                    yield Rejected(f"{location}:{key}", f"message {key}",
                                   f"{location}: message {key} cannot be read ({exc})",
                                   "MalformedMessage")
                    continue
                digest = hashlib.sha256(raw).hexdigest()[:16]
                if digest in rejected:
                    continue
                entry = self._item(raw, f"message {key}", location.name)
                yield entry
                if isinstance(entry, Rejected):
                    # Read whole at every run: remember what went to quarantine, not to put
                    # it there again. Items need no such memory, the runner dedupes them.
                    rejected = [*rejected, digest][-5000:]
                    ctx.cursor["rejected"] = rejected
        except OSError as exc:
            raise FetchError(f"{location}: cannot read the mailbox ({exc})") from exc
        finally:
            box.close()

    # --- IMAP ----------------------------------------------------------------------------

    def _connect(self) -> imaplib.IMAP4:
        o = self.options
        host = o.host or ""
        context = ssl.create_default_context(cafile=o.ca_file) if o.ca_file \
            else ssl.create_default_context()
        password = os.environ.get(o.password_env or "")
        if not password:
            raise FetchError(f"the environment variable {o.password_env} holding the IMAP "
                             "password is not set", hint="set it for the ecoute process")
        try:
            if o.security == "tls":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(host, o.port or 993,
                                                        ssl_context=context, timeout=30)
            else:
                conn = imaplib.IMAP4(host, o.port or 143, timeout=30)
                if o.security == "starttls":
                    conn.starttls(ssl_context=context)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise FetchError(f"IMAP {host}:{o.port or ''}: cannot connect ({exc})",
                             hint="check host, port and security") from exc
        try:
            conn.login(o.username or "", password)
        except imaplib.IMAP4.error as exc:
            _logout(conn)
            raise FetchError(f"IMAP {host}: login refused for {o.username} ({_text(exc)})",
                             hint=f"check username and the password in ${o.password_env}"
                             ) from exc
        return conn

    def _imap(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        o = self.options
        conn = self._connect()
        try:
            typ, data = conn.select(_quote(o.folder), readonly=not o.mark_seen)
            if typ != "OK":
                raise FetchError(f"IMAP {o.host}: no folder {o.folder!r} ({_text(data)})",
                                 hint="folder names are case-sensitive, e.g. INBOX")
            validity = int((conn.response("UIDVALIDITY")[1] or [b"0"])[0] or 0)
            last_uid = int(ctx.cursor.get("last_uid", 0))
            if ctx.cursor.get("uidvalidity") not in (None, validity):
                ctx.logger.warning("%s: UIDVALIDITY changed, reading the folder again", o.folder)
                last_uid = 0
            typ, data = conn.uid("SEARCH", None, f"UID {last_uid + 1}:*")  # type: ignore[arg-type]
            if typ != "OK":
                raise FetchError(f"IMAP {o.host}: search failed ({_text(data)})")
            # "N:*" always matches the highest UID, even below N.
            uids = sorted(u for u in map(int, (data[0] or b"").split()) if u > last_uid)
            uids = uids[: o.max_messages]
            item = "(BODY[])" if o.mark_seen else "(BODY.PEEK[])"
            for start in range(0, len(uids), FETCH_CHUNK):
                chunk = uids[start:start + FETCH_CHUNK]
                typ, data = conn.uid("FETCH", ",".join(map(str, chunk)), item)
                if typ != "OK":
                    raise FetchError(f"IMAP {o.host}: fetch failed ({_text(data)})")
                for uid, raw in _fetched(data):
                    yield self._item(raw, f"{o.folder} UID {uid}", o.folder)
                    # After the message was handed over, never before.
                    ctx.cursor["uidvalidity"], ctx.cursor["last_uid"] = validity, uid
            ctx.cursor["uidvalidity"] = validity
        except (OSError, imaplib.IMAP4.error) as exc:
            raise FetchError(f"IMAP {o.host}: {_text(exc)}") from exc
        finally:
            _logout(conn)


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()[:16]


def _has_content(path: Path) -> bool:
    """Whether a file holds more than blank space (an empty mbox is a valid empty mailbox)."""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 16):
            if chunk.strip():
                return True
    return False


def _fetched(data: Sequence[object]) -> Iterator[tuple[int, bytes]]:
    for entry in data:
        if isinstance(entry, tuple) and len(entry) == 2:
            match = UID_IN_RESPONSE.search(entry[0])
            if match and isinstance(entry[1], bytes):
                yield int(match[1]), entry[1]


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, Exception) and value.args and isinstance(value.args[0], bytes):
        return value.args[0].decode("utf-8", errors="replace")
    return str(value)


def _logout(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except (OSError, imaplib.IMAP4.error):
        pass  # the connection is going away either way


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
