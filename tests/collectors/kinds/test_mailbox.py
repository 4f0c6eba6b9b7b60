"""The mailbox collector against a real Dovecot on loopback and local Maildir/mbox folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.base import CollectContext
from ecoute.collectors.kinds.mailbox_text import strip_reply
from ecoute.collectors.http.client import HttpFetcher
from ecoute.collectors.kinds.mailbox import MailboxCollector
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.errors import InvalidOptions
from ecoute.store.db import make_session_factory, session_scope
from ecoute.store.models import Item, Quarantine, Source
from tests.helpers import emails
from tests.helpers.imap_server import ImapServer, imap_server  # noqa: F401 - fixture

ELECTED = ["@conseil.valmont.fr"]


@pytest.fixture
def local_store(sqlite_engine: Engine, tmp_path: Path) -> tuple[sessionmaker[Session], Settings]:
    """IMAP tests are about the protocol, not the store: SQLite only keeps them quick."""
    return make_session_factory(sqlite_engine), Settings(
        database_url=sqlite_engine.url.render_as_string(), cache_dir=tmp_path / "cache")


def _add(factory: sessionmaker[Session], **options: object) -> int:
    with session_scope(factory) as session:
        return add_source(session, authority="demo", name="courriels", kind="mailbox",
                          options={"elected_senders": ELECTED, **options}).id


def _items(factory: sessionmaker[Session]) -> dict[str, Item]:
    with session_scope(factory) as session:
        return {i.external_id: i for i in session.scalars(select(Item))}


def _imap_options(server: ImapServer, monkeypatch: pytest.MonkeyPatch,
                  **extra: object) -> dict[str, object]:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", server.password)
    return {"host": server.host, "port": server.port, "security": "none",
            "username": server.user, "password_env": "TEST_IMAP_PASSWORD", **extra}


def _unseen(server: ImapServer) -> int:
    conn = server.client()
    try:
        conn.select("INBOX", readonly=True)
        _typ, data = conn.search(None, "UNSEEN")
        return len(data[0].split())
    finally:
        conn.logout()


def _check_messages(items: dict[str, Item]) -> None:
    reply = items["<reply-1@example.org>"]
    assert reply.channel == "email"
    assert reply.text == ("Bonjour,\n\nMerci pour votre réponse rapide, l'agent de l'accueil a "
                          "été très aimable. Par contre j'ai attendu 45 minutes avant d'être "
                          "reçue.")
    assert reply.title == "Re: Votre demande de carte d'identité"
    assert reply.author_hash and "claire" not in reply.author_hash
    assert reply.published_at is not None and reply.published_at.isoformat().startswith(
        "2026-03-12T08:15")
    elected = items["<elu-1@conseil.valmont.fr>"]
    assert elected.channel == "elected_feedback" and elected.extra["elected"] is True
    assert "éclairage défaillant rue des Lilas" in elected.text
    assert "propreté du parc" in elected.text and "ancien message" not in elected.text
    assert "a écrit" not in elected.text
    assert elected.extra["attachments"] == [
        {"filename": "photos-rue-des-lilas.pdf", "content_type": "application/pdf", "size": 13}
    ]
    bus = items["<bus-12@example.com>"]
    assert bus.text == ("The number 12 bus was 20 minutes late this morning, third time this "
                        "week.")
    assert bus.extra["body_type"] == "plain"


def test_imap_messages_land_once_and_stay_unread(
    imap_server: ImapServer, local_store: tuple[sessionmaker[Session], Settings],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    factory, settings = local_store
    for make in emails.MESSAGES:
        imap_server.append(make())
    imap_server.append(emails.attachment_only())
    source_id = _add(factory, **_imap_options(imap_server, monkeypatch))
    report = run_source(factory, settings, source_id)
    assert (report.new, report.quarantined) == (3, 1), report.error
    _check_messages(_items(factory))
    assert _unseen(imap_server) == 4  # BODY.PEEK on a read-only selection
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None and source.cursor["last_uid"] == 4
        assert session.scalars(select(Quarantine)).one().error_class == "EmptyMessage"

    again = run_source(factory, settings, source_id)
    assert (again.fetched, again.new, again.quarantined) == (0, 0, 0)
    imap_server.append(b"From: x@example.org\r\nMessage-ID: <late@x>\r\nSubject: Horaires\r\n\r\n"
                       b"La piscine ferme trop tot le dimanche.\r\n")
    later = run_source(factory, settings, source_id)
    assert (later.fetched, later.new) == (1, 1)


def test_uidvalidity_change_rereads_without_duplicates(
    imap_server: ImapServer, local_store: tuple[sessionmaker[Session], Settings],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    factory, settings = local_store
    imap_server.append(emails.plain_reply())
    source_id = _add(factory, **_imap_options(imap_server, monkeypatch))
    assert run_source(factory, settings, source_id).new == 1
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        source.cursor = {"uidvalidity": 1, "last_uid": 99}  # as if the folder was rebuilt
    report = run_source(factory, settings, source_id)
    assert (report.fetched, report.new, report.duplicate) == (1, 0, 1)


def test_imap_starttls_tls_and_mark_seen(
    imap_server: ImapServer, local_store: tuple[sessionmaker[Session], Settings],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    factory, settings = local_store
    imap_server.append(emails.plain_reply())
    options = _imap_options(imap_server, monkeypatch, security="starttls",
                            ca_file=str(imap_server.ca_file))
    report = run_source(factory, settings, _add(factory, **options))
    assert report.new == 1 and _unseen(imap_server) == 1
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="imaps", kind="mailbox", options={
            **options, "security": "tls", "port": imap_server.tls_port, "mark_seen": True,
        }).id
    report = run_source(factory, settings, source_id)
    assert report.fetched == 1 and report.error is None
    assert _unseen(imap_server) == 0


def test_imap_errors_say_what_to_fix(
    imap_server: ImapServer, local_store: tuple[sessionmaker[Session], Settings],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    factory, settings = local_store
    options = _imap_options(imap_server, monkeypatch)
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "wrong")
    report = run_source(factory, settings, _add(factory, **options))
    assert report.status == "failed" and "login refused for agent" in (report.error or "")
    with session_scope(factory) as session:
        bad_folder = add_source(session, authority="demo", name="f", kind="mailbox",
                                options={**options, "folder": "Nope"}).id
    monkeypatch.setenv("TEST_IMAP_PASSWORD", imap_server.password)
    report = run_source(factory, settings, bad_folder)
    assert report.status == "failed" and "no folder 'Nope'" in (report.error or "")
    # An untrusted certificate is refused.
    with session_scope(factory) as session:
        untrusted = add_source(session, authority="demo", name="t", kind="mailbox",
                               options={**options, "security": "starttls"}).id
    report = run_source(factory, settings, untrusted)
    assert report.status == "failed" and "cannot connect" in (report.error or "")


@pytest.mark.parametrize("layout", ["maildir", "mbox"])
def test_local_folders(layout: str, factory: sessionmaker[Session], settings: Settings,
                       tmp_path: Path) -> None:
    messages = [make() for make in emails.MESSAGES] + [emails.attachment_only()]
    writer = emails.write_maildir if layout == "maildir" else emails.write_mbox
    path = writer(tmp_path / f"box-{layout}", messages)
    source_id = _add(factory, path=str(path))
    report = run_source(factory, settings, source_id)
    assert (report.new, report.quarantined) == (3, 1)
    _check_messages(_items(factory))
    again = run_source(factory, settings, source_id)
    assert (again.new, again.duplicate, again.quarantined) == (0, 3, 0)


def test_options_are_checked() -> None:
    for bad in ({}, {"host": "imap.example.org", "path": "/x"},
                {"host": "imap.example.org"},
                {"host": "imap.example.org", "username": "u", "password_env": "P",
                 "security": "none"},
                {"path": "/x", "elected_senders": ["maire"]}):
        with pytest.raises(InvalidOptions):
            from ecoute.collectors.registry import validate_options

            validate_options("mailbox", bad)


def test_missing_password_variable(tmp_path: Path, settings: Settings) -> None:
    collector = MailboxCollector(MailboxCollector.Options(
        host="127.0.0.1", security="none", username="u", password_env="ECOUTE_TEST_UNSET_PW"))
    ctx = CollectContext(source_name="m", options=collector.options, settings=settings,
                         http=HttpFetcher())
    with pytest.raises(Exception, match="ECOUTE_TEST_UNSET_PW"):
        list(collector.collect(ctx))
    ctx.http.close()


@pytest.mark.parametrize(("raw", "expected"), [
    ("Merci.\n\nOn Mon, Mar 16, 2026 at 9:00 AM Jane <j@x.org> wrote:\n> hi", "Merci."),
    ("D'accord.\n-----Message d'origine-----\nDe : x", "D'accord."),
    ("Oui.\n\nDe : Mairie\nEnvoyé : lundi\nObjet : test", "Oui."),
    ("> quoted\nMy answer inline.\n> more", "My answer inline."),
    ("Texte.\n--\nsignature", "Texte."),
])
def test_strip_reply(raw: str, expected: str) -> None:
    assert strip_reply(raw) == expected

