"""RSS, Atom and the other feed formats feedparser reads."""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax import SAXParseException

import feedparser
from bs4 import BeautifulSoup
from pydantic import Field, field_validator

from ecoute.collectors.base import CollectContext, Collector, CollectorOptions, RawItem, Rejected
from ecoute.errors import FetchError
from ecoute.store.models import Channel

# feedparser reports these as "bozo" although it decoded the document correctly; they say
# something about the server, not about lost entries.
BENIGN_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def html_to_text(html: str) -> str:
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())


def struct_to_utc(value: Any) -> datetime | None:
    """feedparser's ``*_parsed`` time tuples are already in UTC."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
    except (OverflowError, ValueError, TypeError):
        return None


def read_local(location: str) -> bytes | None:
    """The bytes of a ``file://`` URL or a plain path; None for an http(s) URL."""
    parts = urlsplit(location)
    if parts.scheme in ("http", "https"):
        return None
    path = Path(unquote(parts.path)) if parts.scheme == "file" else Path(location).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FetchError(f"{location}: cannot read the file ({exc.strerror})") from exc


class RssCollector(Collector):
    """News, blog and social feeds (RSS 0.9x/1.0/2.0, Atom, CDF) from a URL or a local file."""

    kind = "rss"
    channel = Channel.SOCIAL
    default_schedule = "every 30 minutes"

    class Options(CollectorOptions):
        url: str = Field(
            description="Address of the feed: an http(s) URL, a file:// URL or a local path."
        )
        channel: Channel = Field(
            Channel.SOCIAL, description="Channel given to the feed's items (social, review...)."
        )

        @field_validator("url")
        @classmethod
        def _not_blank(cls, value: str) -> str:
            if not value.strip():
                raise ValueError("the feed address is empty")
            return value.strip()

    options: Options

    def collect(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        url = self.options.url
        raw = read_local(url)
        if raw is None:
            result = ctx.http.get(url, etag=ctx.etag, last_modified=ctx.last_modified)
            if result.not_modified:
                ctx.logger.info("%s: not modified since the last run", url)
                return
            raw = result.content
            ctx.new_etag = result.headers.get("etag")
            ctx.new_last_modified = result.headers.get("last-modified")
        parsed = feedparser.parse(raw, sanitize_html=True, resolve_relative_uris=True)
        feed_lang = parsed.feed.get("language")
        for index, entry in enumerate(parsed.entries):
            yield self._entry_item(entry, index, feed_lang, url)
        problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
        if problem is not None and not isinstance(problem, BENIGN_BOZO):
            yield Rejected(
                payload=raw,
                position=_position(problem, len(parsed.entries)),
                reason=f"{url}: malformed feed ({_describe(problem)}); "
                f"{len(parsed.entries)} entries before the error were read",
            )
        elif not parsed.entries and not parsed.get("version"):
            yield Rejected(
                payload=raw,
                position="document",
                reason=f"{url}: not a feed (no RSS, Atom or CDF root element found)",
            )

    def _entry_item(
        self, entry: Any, index: int, feed_lang: str | None, url: str
    ) -> RawItem | Rejected:
        content = entry.get("content") or []
        html = content[0].get("value", "") if content else entry.get("summary", "")
        text = html_to_text(html or "")
        title = html_to_text(entry.get("title", "")) or None
        if not text and not title:
            return Rejected(
                payload=repr(dict(entry))[:10_000],
                position=f"entry {index + 1}",
                reason=f"{url}: entry {index + 1} has neither a title nor any text",
                error_class="EmptyEntry",
            )
        link = entry.get("link") or None
        external_id = entry.get("id") or link
        if not external_id:
            external_id = "sha256:" + hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()
        lang = (content[0].get("language") if content else None) or feed_lang
        return RawItem(
            external_id=str(external_id)[:512],
            text=text or title or "",
            title=title,
            url=link,
            author=entry.get("author") or None,
            published_at=struct_to_utc(entry.get("published_parsed"))
            or struct_to_utc(entry.get("updated_parsed")),
            lang=(lang or None) and str(lang).split("-")[0].lower()[:16],
            channel=self.options.channel,
        )


def _position(problem: BaseException, entries_read: int) -> str:
    if isinstance(problem, SAXParseException):
        return f"line {problem.getLineNumber()}, column {problem.getColumnNumber()}"
    return f"after entry {entries_read}"


def _describe(problem: BaseException) -> str:
    if isinstance(problem, SAXParseException):
        return problem.getMessage()
    return str(problem) or type(problem).__name__
