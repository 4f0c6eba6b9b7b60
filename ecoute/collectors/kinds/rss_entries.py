"""Feed entries in one shape, whatever the format: feedparser's dicts and JSON Feed items.

The rss collector turns each :class:`FeedEntry` into a RawItem; this module knows the formats,
the collector knows ecoute.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedparser.sanitizer import _sanitize_html

from ecoute.collectors.limits import DEFAULT_LIMITS, loads_bounded
from ecoute.errors import ParseError

_SAFE_LINK = re.compile(r"^(https?|ftp)://", re.IGNORECASE)
@dataclass
class FeedEntry:
    index: int
    id: str | None
    link: str | None
    title: str
    html: str  # the fullest body the entry has (content, else summary), HTML or text
    author: str | None
    published: datetime | None
    lang: str | None
    #: The HTML type (text/html, application/xhtml+xml) with which ``html`` and ``title`` still
    #: need feedparser's sanitizer, None when they do not (XML feeds are parsed without it
    #: and sanitized here, on no more than what is kept).
    sanitize_html: str | None = None
    sanitize_title: str | None = None


_HTML_TYPES = {"text/html", "application/xhtml+xml"}


def sanitizer(html_type: str | None) -> Callable[[str], str] | None:
    """feedparser's sanitizer for ``html_type`` (what its ``sanitize_html=True`` does)."""
    if html_type is None:
        return None
    return lambda html: str(_sanitize_html(html, "utf-8", html_type))


def safe_link(link: Any) -> str | None:
    """Only web links are kept: a ``javascript:`` or ``data:`` link must never reach a page."""
    if isinstance(link, str) and _SAFE_LINK.match(link.strip()):
        return link.strip()
    return None


def struct_to_utc(value: Any) -> datetime | None:
    """feedparser's ``*_parsed`` time tuples are already in UTC."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def from_feedparser(entry: Any, index: int, feed_lang: str | None) -> FeedEntry:
    contents = [c for c in entry.get("content") or [] if c.get("value")]
    body = contents[0] if contents else None
    html = body.get("value", "") if body else entry.get("summary", "") or ""
    detail = body if body else entry.get("summary_detail")
    lang = (body.get("language") if body else None) or feed_lang
    published = None
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        published = struct_to_utc(entry.get(key))
        if published:
            break
    return FeedEntry(
        index=index, id=entry.get("id") or None, link=safe_link(entry.get("link")),
        title=entry.get("title", "") or "", html=html, author=entry.get("author") or None,
        published=published, lang=lang, sanitize_html=_htmlish(detail),
        sanitize_title=_htmlish(entry.get("title_detail")),
    )


def _htmlish(detail: Any) -> str | None:
    """The type with which feedparser would sanitize a value of this detail (HTML unless
    typed otherwise), None when it would not."""
    kind = (detail.get("type") if detail else None) or "text/html"
    return kind if kind in _HTML_TYPES else None


def looks_like_json(raw: bytes) -> bool:
    return raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _iso_to_utc(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def json_feed_entries(
    raw: bytes, max_depth: int = DEFAULT_LIMITS.json_max_depth
) -> tuple[Iterator[FeedEntry | str], str | None]:
    """Entries of a JSON Feed (1.0/1.1), and None; or nothing and the reason it is not one.

    Items that are not objects come out as a string naming the problem, for quarantine.
    """
    try:
        doc = loads_bounded(raw.decode("utf-8-sig"), max_depth, what="the feed")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return iter(()), f"not valid JSON ({exc})"
    except ParseError as exc:
        return iter(()), str(exc)
    if not isinstance(doc, dict) or "jsonfeed.org/version" not in str(doc.get("version", "")):
        return iter(()), "JSON, but not a JSON Feed (no https://jsonfeed.org/version/... field)"
    items = doc.get("items")
    if not isinstance(items, list):
        return iter(()), "JSON Feed without an items list"
    feed_lang = doc.get("language") if isinstance(doc.get("language"), str) else None

    def entries() -> Iterator[FeedEntry | str]:
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                yield f"item {index + 1} is a {type(item).__name__}, not an object"
                continue
            authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
            author = authors[0].get("name") if authors and isinstance(authors[0], dict) else None
            html = item.get("content_html") or item.get("content_text") or item.get("summary")
            yield FeedEntry(
                index=index, id=str(item["id"]) if item.get("id") not in (None, "") else None,
                link=safe_link(item.get("url")), title=str(item.get("title") or ""),
                html=str(html or ""), author=author,
                published=_iso_to_utc(item.get("date_published"))
                or _iso_to_utc(item.get("date_modified")),
                lang=item.get("language") if isinstance(item.get("language"), str) else feed_lang,
            )

    return entries(), None
