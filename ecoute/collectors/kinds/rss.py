"""RSS, Atom, CDF and JSON Feed: the formats feedparser reads, plus JSON Feed.

Ill-formed feeds are read as far as feedparser's lenient parser gets; what it reports as
"bozo" (broken XML, an encoding that lies, a wrong Content-Type) becomes one quarantine record
naming the problem and where it is, while the entries read still land. The problems of a feed
whose bytes did not change since the last run are not quarantined again, so a broken feed
makes one record per version, not one per run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax import SAXException, SAXParseException

import feedparser
from pydantic import Field, field_validator

from ecoute.collectors.base import CollectContext, Collector, CollectorOptions, RawItem, Rejected
from ecoute.collectors.kinds.rss_entries import (
    FeedEntry,
    from_feedparser,
    json_feed_entries,
    looks_like_json,
    sanitizer,
)
from ecoute.collectors.files.reading import FileSourceOptions, watched_files
from ecoute.collectors.limits import DEFAULT_LIMITS
from ecoute.collectors.text import bounded_html_to_text
from ecoute.collectors.files.local import (
    allowed_roots,
    configured_path,
    read_regular_file,
)
from ecoute.config.settings import Settings
from ecoute.domain import TRUNCATED_KEY, Channel

#: Largest quarantined copy of a broken feed; bigger ones keep the lines around the error.
QUARANTINE_MAX_BYTES = 1_000_000


class RssCollector(Collector):
    """News, blog and social feeds (RSS 0.9x/1.0/2.0, Atom, CDF, JSON Feed) from a URL or a
    local file."""

    kind = "rss"
    channel = Channel.SOCIAL
    default_schedule = "every 30 minutes"

    class Options(CollectorOptions):
        url: str = Field(
            description="Address of the feed: an http(s) URL, a file:// URL or a local path; "
            "a local folder is watched for feed files (each read once, known by its content)."
        )
        pattern: str = Field(
            "*", description="When `url` is a folder: which files are feeds (glob, e.g. "
            "`*.xml`, `**/*.rss`)."
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

    #: Deepest JSON Feed accepted; the run's limit, set when it starts.
    _max_depth: int = DEFAULT_LIMITS.json_max_depth
    #: Longest text kept of an entry (``text_max_chars``), set when the run starts.
    _max_chars: int = Settings.model_fields["text_max_chars"].default

    def collect(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        self._max_depth = ctx.limits.json_max_depth
        self._max_chars = ctx.settings.text_max_chars
        url = self.options.url
        local = configured_path(url, allowed_roots(ctx.settings))
        if local is not None and local.is_dir():
            yield from self._folder(ctx, local)
            return
        raw = read_regular_file(local, url) if local is not None else None
        headers: dict[str, str] = {}
        if raw is None:
            result = ctx.http.get(url, etag=ctx.etag, last_modified=ctx.last_modified)
            if result.not_modified:
                ctx.logger.info("%s: not modified since the last run", url)
                return
            raw = result.content
            ctx.new_etag = result.headers.get("etag")
            ctx.new_last_modified = result.headers.get("last-modified")
            # The charset of the Content-Type wins over the XML declaration (RFC 7303), and
            # relative links are resolved against the address the feed was served from.
            headers = {"content-location": result.url,
                       "content-type": result.headers.get("content-type", "")}
        digest = hashlib.sha256(raw).hexdigest()
        # The problems of this exact document are already in quarantine: report them once.
        reported = ctx.cursor.get("quarantined_sha256") == digest
        skipped = 0
        outputs = self._json_feed(raw, url) if looks_like_json(raw) else \
            self._xml_feed(raw, url, headers)
        for output in outputs:
            if reported and isinstance(output, Rejected):
                skipped += 1
                continue
            yield output
        if skipped:
            ctx.logger.info("%s: %d problem(s) of this unchanged feed are already in "
                            "quarantine", url, skipped)
        # Recorded only once every entry was handed over: it travels with the last batch.
        ctx.cursor["quarantined_sha256"] = digest

    def _folder(self, ctx: CollectContext, folder: Path) -> Iterator[RawItem | Rejected]:
        """Feed files another system drops in a folder: one run reads every new file."""
        options = FileSourceOptions(path=str(folder), pattern=self.options.pattern)
        for source in watched_files(ctx, options):
            where = str(source.path)
            try:
                raw = source.path.read_bytes()
            except OSError as exc:
                yield Rejected(payload=where, position="file", error_class="FetchError",
                               reason=f"{where}: cannot read the file ({exc.strerror})")
                continue
            yield from (self._json_feed(raw, where) if looks_like_json(raw)
                        else self._xml_feed(raw, where, {}))

    def _xml_feed(
        self, raw: bytes, url: str, headers: dict[str, str]
    ) -> Iterator[RawItem | Rejected]:
        # Neither feedparser's sanitizer nor its link resolver: both re-parse every entry's
        # whole HTML in pure Python (two thirds of the time of a 30 MB entry), while
        # html_to_text keeps only text, without links, and drops what the sanitizer drops
        # (scripts, styles, applets), from a prefix as long as the stored text needs.
        parsed = feedparser.parse(raw, response_headers=headers, sanitize_html=False,
                                  resolve_relative_uris=False)
        feed_lang = parsed.feed.get("language")
        for index, entry in enumerate(parsed.entries):
            yield self._item(from_feedparser(entry, index, feed_lang), url)
        problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
        read = len(parsed.entries)
        if problem is not None:
            error_class, reason = _describe(problem, parsed)
            tail = (f"{read} entries were read" if read else "no entry could be read")
            yield Rejected(
                payload=_excerpt(raw, problem), position=_position(problem, read),
                reason=f"{url}: {reason}; {tail}", error_class=error_class,
            )
        elif not read and not parsed.get("version") and not parsed.feed:
            # CDF channels carry no version; a document with no feed element at all is noise.
            yield Rejected(
                payload=_excerpt(raw, None), position="document",
                reason=f"{url}: not a feed (no RSS, Atom, CDF or JSON Feed document found)",
                error_class="NotAFeed",
            )
        elif not read:
            yield _empty_feed(raw, url)

    def _json_feed(self, raw: bytes, url: str) -> Iterator[RawItem | Rejected]:
        entries, problem = json_feed_entries(raw, self._max_depth)
        if problem is not None:
            yield Rejected(payload=_excerpt(raw, None), position="document",
                           reason=f"{url}: {problem}", error_class="NotAFeed")
            return
        if not entries:
            yield _empty_feed(raw, url)
        for index, entry in enumerate(entries):
            if isinstance(entry, str):
                yield Rejected(payload=entry, position=f"item {index + 1}",
                               reason=f"{url}: {entry}", error_class="MalformedEntry")
            else:
                yield self._item(entry, url)

    def _item(self, entry: FeedEntry, url: str) -> RawItem | Rejected:
        text, text_cut = bounded_html_to_text(entry.html, self._max_chars,
                                              sanitizer(entry.sanitize_html))
        title_text, title_cut = bounded_html_to_text(entry.title, self._max_chars,
                                                     sanitizer(entry.sanitize_title))
        title = title_text or None
        cuts = {name: n for name, n in (("text", text_cut), ("title", title_cut)) if n}
        position = f"entry {entry.index + 1}"
        if not text and not title:
            return Rejected(
                payload=f"id={entry.id!r} link={entry.link!r}", position=position,
                reason=f"{url}: {position} has neither a title nor any text",
                error_class="EmptyEntry",
            )
        external_id = entry.id or entry.link
        if not external_id:
            basis = f"{title or ''}\n{text}".encode()
            external_id = "sha256:" + hashlib.sha256(basis).hexdigest()
        lang = entry.lang.split("-")[0].lower()[:16] if entry.lang else None
        return RawItem(
            external_id=external_id[:512], text=text or title or "", title=title,
            url=entry.link, author=entry.author, published_at=entry.published,
            lang=lang or None, channel=self.options.channel,
            extra={TRUNCATED_KEY: cuts} if cuts else {},
        )


def _describe(problem: BaseException, parsed: Any) -> tuple[str, str]:
    """The quarantine class and a sentence a non-programmer can act on."""
    if isinstance(problem, feedparser.NonXMLContentType):
        served = parsed.get("headers", {}).get("content-type", "an unknown type")
        return ("ContentTypeWarning",
                f"served as {served!r}, which is not a feed type; read as XML anyway")
    if isinstance(problem, feedparser.CharacterEncodingOverride):
        decoded = parsed.get("encoding") or "another encoding"
        return ("EncodingWarning",
                f"the declared encoding is wrong ({problem}); decoded as {decoded}")
    if isinstance(problem, feedparser.CharacterEncodingUnknown):
        return ("EncodingError", f"the encoding cannot be determined ({problem})")
    if isinstance(problem, SAXParseException):
        return "MalformedFeed", f"malformed feed ({problem.getMessage()})"
    if isinstance(problem, SAXException):
        return "MalformedFeed", f"malformed feed ({problem.getMessage()})"
    return "MalformedFeed", f"malformed feed ({str(problem) or type(problem).__name__})"


def _position(problem: BaseException, entries_read: int) -> str:
    if isinstance(problem, SAXParseException) and problem.getLineNumber():
        return f"line {problem.getLineNumber()}, column {problem.getColumnNumber()}"
    if isinstance(problem, feedparser.NonXMLContentType | feedparser.CharacterEncodingOverride):
        return "document"
    return f"after entry {entries_read}" if entries_read else "document"


def _excerpt(raw: bytes, problem: BaseException | None) -> bytes:
    """The broken document for quarantine; for a huge one, the lines around the error."""
    if len(raw) <= QUARANTINE_MAX_BYTES:
        return raw
    line = problem.getLineNumber() if isinstance(problem, SAXParseException) else 1
    lines = raw.splitlines(keepends=True)
    start = max(0, (line or 1) - 200)
    return b"".join(lines[start:start + 400])[:QUARANTINE_MAX_BYTES]


def _empty_feed(raw: bytes, url: str) -> Rejected:
    # Well formed, but nothing to collect: said once per document (the cursor remembers it),
    # so that a source pointing at the wrong, empty feed does not look healthy and silent.
    return Rejected(
        payload=_excerpt(raw, None), position="document", error_class="EmptyFeed",
        reason=f"{url}: a well-formed feed with no entry: nothing to collect (check that the "
        "address is the feed of the comments or reviews wanted)",
    )
