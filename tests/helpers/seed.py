"""Putting feedback into a test database through the real collector and runner."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.store.db import session_scope


def write_feed(path: Path, texts: list[str], *, start: datetime | None = None,
               prefix: str = "fb") -> Path:
    """An RSS file with one entry per text, one day apart going back from ``start``."""
    start = start or datetime.now(timezone.utc) - timedelta(hours=1)
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
