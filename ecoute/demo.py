"""``ecoute demo``: a fresh database filled from the sample sources shipped in the package.

The sample feeds carry fixed dates; they are copied into the demo folder with every date moved
by the same number of days, so that the newest item falls on the day the demo runs and the
rolling windows have something to show.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from importlib.resources import files
from pathlib import Path

from platformdirs import user_data_dir
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from ecoute.config.settings import Settings, get_settings

DEMO_AUTHORITY = "demo"
#: name → (file, collector kind, extra options)
DEMO_SOURCES: dict[str, tuple[str, str, dict[str, str]]] = {
    "avis-mairie": ("mairie-avis.rss", "rss", {"channel": "review"}),
    "transit-feedback": ("transport-feedback.atom", "rss", {"channel": "social"}),
    "signalements": ("signalements-casse.rss", "rss", {"channel": "service_request"}),
}

_RFC822 = re.compile(r"(<pubDate>)([^<]+)(</pubDate>)")
_RFC3339 = re.compile(r"(<(?:updated|published)>)([^<]+)(</(?:updated|published)>)")


def _dates(text: str) -> list[datetime]:
    found = []
    for match in _RFC822.finditer(text):
        found.append(parsedate_to_datetime(match.group(2).strip()))
    for match in _RFC3339.finditer(text):
        found.append(datetime.fromisoformat(match.group(2).strip().replace("Z", "+00:00")))
    return found


def shift_dates(text: str, days: int) -> str:
    """Move every RSS/Atom date of ``text`` by ``days``, keeping each one's offset."""
    delta = timedelta(days=days)

    def rfc822(m: re.Match[str]) -> str:
        moved = parsedate_to_datetime(m.group(2).strip()) + delta
        return f"{m.group(1)}{format_datetime(moved)}{m.group(3)}"

    def rfc3339(m: re.Match[str]) -> str:
        raw = m.group(2).strip()
        moved = datetime.fromisoformat(raw.replace("Z", "+00:00")) + delta
        stamp = moved.isoformat().replace("+00:00", "Z") if raw.endswith("Z") else moved.isoformat()
        return f"{m.group(1)}{stamp}{m.group(3)}"

    return _RFC3339.sub(rfc3339, _RFC822.sub(rfc822, text))


def copy_samples(target: Path, today: date) -> dict[str, Path]:
    """Copy the sample files into ``target`` with their dates moved to end on ``today``."""
    target.mkdir(parents=True, exist_ok=True)
    data = files("ecoute.demo_data")
    texts = {
        name: data.joinpath(filename).read_text(encoding="utf-8")
        for name, (filename, _kind, _opts) in DEMO_SOURCES.items()
    }
    newest = max(d for text in texts.values() for d in _dates(text))
    shift = (today - newest.astimezone(timezone.utc).date()).days
    paths = {}
    for name, text in texts.items():
        path = target / DEMO_SOURCES[name][0]
        path.write_text(shift_dates(text, shift), encoding="utf-8")
        paths[name] = path
    return paths


def demo_settings(base: Settings, folder: Path, *, fresh_url: bool) -> Settings:
    if not fresh_url:
        return base
    return base.model_copy(update={"database_url": f"sqlite:///{folder / 'ecoute-demo.db'}"})


#: The officer the demo creates, so that a person can sign in and correct at once.
DEMO_USER = "demo"


def demo_user(factory: sessionmaker[Session]) -> tuple[str, str]:
    """A fresh password for the demo's officer (created on first use), and its username:
    the demo database is local and thrown away, but its password is still not a constant
    anyone could read here."""
    import secrets

    from ecoute.errors import UserExists
    from ecoute.store.authorities import get_authority
    from ecoute.store.db import session_scope
    from ecoute.store.users import create_user, set_password

    password = secrets.token_urlsafe(9)
    with session_scope(factory) as session:
        try:
            with session.begin_nested():
                create_user(session, username=DEMO_USER, password=password, role="officer",
                            authority=get_authority(session, DEMO_AUTHORITY))
        except UserExists:
            set_password(session, DEMO_USER, password)
    return DEMO_USER, password


def default_folder() -> Path:
    return Path(user_data_dir("ecoute", appauthor=False)) / "demo"


def prepare_demo(
    console: Console, *, base: Settings | None = None, folder: Path | None = None,
    own_database: bool | None = None,
) -> Settings:
    """Migrate, register the sample sources, collect and classify; return the settings used.

    Unless ``ECOUTE_DATABASE_URL`` names a database (``own_database`` False), the demo starts
    from a fresh SQLite file in ``folder``.
    """
    import os

    from ecoute.classifiers.loader import build_classifier
    from ecoute.classifiers.pending import classify_pending
    from ecoute.collectors.files.local import allowed_roots
    from ecoute.collectors.service import add_source, run_source
    from ecoute.errors import SourceExists
    from ecoute.store.authorities import ensure_authority
    from ecoute.store.db import make_session_factory, open_store, session_scope, upgrade

    folder = folder or default_folder()
    if own_database is None:
        own_database = "ECOUTE_DATABASE_URL" not in os.environ
    settings = demo_settings(base or get_settings(), folder, fresh_url=own_database)
    # The samples are copied into ``folder``: readable whatever ECOUTE_FILE_ROOTS says.
    settings = settings.model_copy(
        update={"file_roots": [*allowed_roots(settings), folder.resolve()]})
    if own_database:
        for suffix in ("", "-wal", "-shm"):
            (folder / f"ecoute-demo.db{suffix}").unlink(missing_ok=True)
    console.print(f"[bold]ecoute demo[/bold] — database {settings.database_url}")
    engine = open_store(settings, check=False)
    upgrade(engine)
    factory = make_session_factory(engine)
    paths = copy_samples(folder / "samples", date.today())
    source_ids = {}
    with session_scope(factory) as session:
        ensure_authority(session, DEMO_AUTHORITY, name="Ville de Valmont (démo)")
        for name, (_file, kind, extra) in DEMO_SOURCES.items():
            try:
                source = add_source(session, authority=DEMO_AUTHORITY, name=name, kind=kind,
                                    options={"url": str(paths[name]), **extra})
            except SourceExists:
                from ecoute.store.authorities import get_authority
                from ecoute.store.sources import get_source_by_name

                source = get_source_by_name(
                    session, get_authority(session, DEMO_AUTHORITY).id, name)
            source_ids[name] = source.id
    for name, source_id in source_ids.items():
        report = run_source(factory, settings, source_id)
        console.print(f"collected {name}: {report.new} new, {report.duplicate} duplicate, "
                      f"{report.quarantined} quarantined" + (f" — {report.error}"
                                                              if report.error else ""))
    with console.status("loading the classification model"):
        classifier = build_classifier(settings)
    with console.status("classifying"):
        result = classify_pending(factory, classifier, batch_size=settings.classify_chunk_size,
                                  settings=settings)
    console.print(f"classified {result.classified} items with {classifier.name}")
    engine.dispose()
    return settings
