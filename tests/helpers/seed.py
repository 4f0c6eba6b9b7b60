"""Putting feedback into a test database through the real collector and runner."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope


#: The timezone of the authorities tests create (``ensure_authority``'s default).
AUTHORITY_ZONE = ZoneInfo("Europe/Paris")


def recent() -> datetime:
    """An hour ago, or half-way since local midnight when that is nearer.

    Windows count whole days of the authority's timezone: an item dated an hour ago at
    00:30 in Paris falls on the day before, and "one day apart" would then straddle three
    local days instead of two.
    """
    now = datetime.now(timezone.utc)
    local = now.astimezone(AUTHORITY_ZONE)
    since_midnight = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
    return now - min(timedelta(hours=1), since_midnight / 2)


def write_feed(path: Path, texts: list[str], *, start: datetime | None = None,
               prefix: str = "fb") -> Path:
    """An RSS file with one entry per text, one day apart going back from ``start``
    (default :func:`recent`)."""
    start = start or recent()
    entries = []
    for n, text in enumerate(texts):
        when = format_datetime(start - timedelta(days=n))
        entries.append(
            f"<item><guid>{prefix}-{n}</guid><description>{escape(text)}</description>"
            f"<pubDate>{when}</pubDate></item>"
        )
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        + "".join(entries) + "</channel></rss>",
        encoding="utf-8",
    )
    return path


def seed(factory: sessionmaker[Session], settings: Settings, tmp_path: Path, texts: list[str],
         *, name: str = "feedback", channel: str = "review", **kwargs: object) -> int:
    """Collect ``texts`` as a review feed; returns the source id."""
    path = write_feed(tmp_path / f"{name}.rss", texts, **kwargs)  # type: ignore[arg-type]
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name=name, kind="rss",
                               options={"url": str(path), "channel": channel}).id
    report = run_source(factory, settings, source_id)
    assert report.new == len(texts), report
    return source_id
