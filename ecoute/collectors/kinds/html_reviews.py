"""Reviews published on web pages: schema.org markup, and CSS selectors for what it leaves out.

A page's ``Review`` objects (JSON-LD, microdata or RDFa, read by extruct) each become an item;
the ``selectors`` option adds the comments the markup does not carry (or all of them, on pages
without markup). A page's ``AggregateRating`` (the average shown next to the reviews) is what
the page says of itself, not anybody's feedback: it is yielded as :class:`SourceFigures`,
stored with the source and tracked over time, and never counted in the rollups; "0 stars from
0 ratings" is no rating at all. A review's language is its own (``inLanguage``, else detected
from its text by the classifier), not the page's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import extruct
import lxml.html
import soupsieve
from bs4 import BeautifulSoup, Tag
from defusedxml import ElementTree as SafeET
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from w3lib.encoding import html_to_unicode

from ecoute.collectors.kinds import html_reviews_schema_org as schema_org
from ecoute.collectors.base import (
    CollectContext,
    Collector,
    CollectorOptions,
    RawItem,
    Rejected,
    SourceFigures,
)
from ecoute.collectors.files.local import (
    allowed_roots,
    found_url,
    is_web_address,
    read_configured,
)
from ecoute.collectors.text import html_to_text
from ecoute.errors import CollectError
from ecoute.domain import Channel

SYNTAXES = ("json-ld", "microdata", "rdfa")
# pyRdfa takes about a second on a large page: run it only where RDFa types a review.
RDFA_REVIEW = re.compile(r"""typeof\s*=\s*["'][^"']*(?:Review|Rating)""", re.IGNORECASE)
NEXT_LINK = (
    "//*[self::link or self::a][contains(concat(' ', normalize-space(@rel), ' '), ' next ')]"
)


class ReviewSelectors(BaseModel):
    """Where the reviews are on a page without schema.org markup (CSS selectors)."""

    model_config = ConfigDict(extra="forbid")

    container: str = Field(description="Selector of the element holding one review.")
    text: str = Field(description="Selector, inside a review, of its text.")
    rating: str | None = Field(None, description="Selector, inside a review, of its rating.")
    rating_attribute: str | None = Field(
        None, description="Attribute holding the rating (e.g. data-rating, content); "
        "the element's text when empty.",
    )
    date: str | None = Field(
        None, description="Selector of its date (read from a datetime or content attribute, "
        "else from the text, in ISO 8601 or RFC 2822 form).",
    )
    author: str | None = Field(None, description="Selector of the author's name.")
    title: str | None = Field(None, description="Selector of the review's title.")

    @field_validator("container", "text", "rating", "date", "author", "title")
    @classmethod
    def _valid_css(cls, value: str | None) -> str | None:
        return _check_css(value)


def _check_css(value: str | None) -> str | None:
    if value is not None:
        try:
            soupsieve.compile(value)
        except soupsieve.SelectorSyntaxError as exc:
            raise ValueError(f"{value!r} is not a valid CSS selector: {exc}") from exc
    return value


class HtmlReviewsCollector(Collector):
    """Reviews on web pages (review sites, the authority's feedback page), from schema.org
    JSON-LD, microdata or RDFa, or from CSS selectors."""

    kind = "html_reviews"
    channel = Channel.REVIEW
    default_schedule = "every 1 day"

    class Options(CollectorOptions):
        url: str | list[str] = Field(
            default_factory=list,
            description="Page(s) to read: http(s) URLs, file:// URLs or local paths.",
        )
        sitemap: str | None = Field(
            None, description="A sitemap (URL or local path) whose pages are read too "
            "(only its http(s) addresses: a sitemap never points at local files)."
        )
        sitemap_filter: str | None = Field(
            None, description="Regular expression: only sitemap pages whose URL matches it."
        )
        selectors: ReviewSelectors | None = Field(
            None, description="CSS selectors of the reviews on a page: all of them on pages "
            "without schema.org Review markup, the comments the markup leaves out on the others."
        )
        next_selector: str | None = Field(
            None, description="CSS selector of the link to the next page of reviews; "
            "without it a rel=next link is followed.",
        )
        max_pages: int = Field(
            20, ge=1, le=1000, description="Most pages read in one run (pagination included)."
        )
        rating_scale: str = Field(
            "1-5", description="Scale of ratings that do not state theirs "
            "(schema.org's default is 1-5).",
        )
        lang: str | None = Field(
            None, description="Language of every review, when you know it; by default a "
            "review's language is its own markup's, else detected from its text (a page's "
            "declared language is not its visitors')."
        )
        channel: Channel = Field(Channel.REVIEW, description="Channel given to the items.")

        @field_validator("url")
        @classmethod
        def _urls(cls, value: str | list[str]) -> list[str]:
            urls = [value] if isinstance(value, str) else value
            cleaned = [u.strip() for u in urls]
            if any(not u for u in cleaned):
                raise ValueError("a page address is empty")
            return cleaned

        @field_validator("sitemap_filter")
        @classmethod
        def _regex(cls, value: str | None) -> str | None:
            if value is not None:
                try:
                    re.compile(value)
                except re.error as exc:
                    raise ValueError(f"not a regular expression: {exc}") from exc
            return value

        @field_validator("next_selector")
        @classmethod
        def _css(cls, value: str | None) -> str | None:
            return _check_css(value)

        @field_validator("rating_scale")
        @classmethod
        def _scale(cls, value: str) -> str:
            schema_org.parse_scale(value)
            return value

        @model_validator(mode="after")
        def _something_to_read(self) -> HtmlReviewsCollector.Options:
            if not self.url and not self.sitemap:
                raise ValueError("give the page address(es) in url, or a sitemap")
            return self

    options: Options

    def collect(self, ctx: CollectContext) -> Iterator[RawItem | SourceFigures | Rejected]:
        opts = self.options
        starts = list(opts.url) if isinstance(opts.url, list) else [opts.url]
        given = set(starts)  # addresses the user typed; robots.txt governs only the rest
        # Where each address was found: None for a configured one (it may be a local file).
        found_in: dict[str, str | None] = dict.fromkeys(starts)
        if opts.sitemap:
            locs = [loc for loc in self._sitemap_urls(ctx, opts.sitemap) if loc not in found_in]
            found_in.update(dict.fromkeys(locs, opts.sitemap))
            starts += locs
        budget, read = opts.max_pages, 0
        failures: list[tuple[str, CollectError]] = []
        seen: set[str] = set()
        unread: list[str] = []  # pages left out because the budget ran out
        for start in starts:
            page_url: str | None = start
            origin = found_in.get(start)
            first = True
            while page_url and page_url not in seen:
                if read >= budget:
                    unread.append(page_url)
                    break
                seen.add(page_url)
                try:
                    body, content_type = self._fetch(
                        ctx, page_url, crawl=not (first and start in given), found_in=origin)
                except CollectError as exc:
                    failures.append((page_url, exc))
                    break
                read += 1
                page = _Page(page_url, html_to_unicode(content_type, body)[1])
                yield from self._page_items(page, start, first)
                first = False
                # A web page's link is the site's word, not the administrator's: fetch only.
                origin = page_url if is_web_address(page_url) else None
                page_url = self._next_page(page)
        if failures and not read:
            raise failures[0][1]
        if unread:
            # Silently stopping would pass a partial read for the whole site.
            ctx.warn(f"stopped after max_pages={budget} pages: the reviews of {unread[0]}"
                     + (f" and of {len(unread) - 1} other start page(s)" if len(unread) > 1
                        else "")
                     + " and beyond were not read; raise max_pages to read them")
        for url, error in failures:
            yield Rejected(payload=url, position=url, reason=str(error),
                           error_class=type(error).__name__)

    def _fetch(
        self, ctx: CollectContext, url: str, *, crawl: bool = False, found_in: str | None = None
    ) -> tuple[bytes, str | None]:
        """``url`` read from the disk (configured, or linked from a local page) or fetched;
        an address found in a fetched document (``found_in``) is only ever fetched."""
        if found_in is None:
            local = read_configured(url, allowed_roots(ctx.settings))
            if local is not None:
                return local, None
        else:
            found_url(url, found_in=found_in)
        result = ctx.http.get(url, crawl=crawl)
        return result.content, result.headers.get("content-type")

    def _sitemap_urls(self, ctx: CollectContext, sitemap: str) -> list[str]:
        body, _ = self._fetch(ctx, sitemap)
        try:
            root = SafeET.fromstring(body)
        except Exception as exc:  # defusedxml's refusals and expat's syntax errors alike
            raise CollectError(f"{sitemap}: not a readable sitemap ({exc})") from exc
        wanted = re.compile(self.options.sitemap_filter or "")
        locs = [(el.text or "").strip() for el in root.iter() if el.tag.endswith("loc")]
        return [loc for loc in locs if loc and wanted.search(loc)]

    def _next_page(self, page: _Page) -> str | None:
        href: Any = None
        if self.options.next_selector:
            link = page.soup.select_one(self.options.next_selector)
            href = link.get("href") if link is not None else None
        else:
            links = page.tree.xpath(NEXT_LINK)
            href = links[0].get("href") if links else None
        if not isinstance(href, str) or not href.strip():
            return None
        target = urljoin(page.url, href.strip())
        here, there = urlsplit(page.url), urlsplit(target)
        # A saved page's links point at the live site: never wander to another origin.
        if (here.scheme, here.netloc) != (there.scheme, there.netloc):
            return None
        return target

    def _page_items(
        self, page: _Page, start: str, first: bool
    ) -> Iterator[RawItem | SourceFigures | Rejected]:
        html, page_url = page.html, page.url
        lang = self.options.lang
        Found = list[tuple[dict[str, Any], dict[str, Any] | None]]
        reviews: Found = []
        aggregates: Found = []
        for syntax in SYNTAXES:
            if syntax == "rdfa" and not RDFA_REVIEW.search(html):
                continue
            try:
                data = extruct.extract(html, base_url=page_url, syntaxes=[syntax],
                                       uniform=True, errors="strict")
            except Exception as exc:  # noqa: BLE001 - extruct lets its parsers' errors through
                yield Rejected(payload=html[:100_000], position=f"{page_url} ({syntax})",
                               reason=f"{page_url}: unreadable {syntax} markup: {exc}")
                continue
            nodes = data.get(syntax, [])
            if syntax == "rdfa":
                nodes = schema_org.compact_rdfa(nodes)
            for kind, node, parent in schema_org.find_ratings(nodes, None):
                (reviews if kind == "review" else aggregates).append((node, parent))
        seen: set[str] = set()
        texts: set[str] = set()
        for node, parent in reviews:
            item = self._review_item(node, parent, page_url, lang)
            if isinstance(item, RawItem):
                if item.external_id in seen:  # the same review in JSON-LD and microdata
                    continue
                seen.add(item.external_id)
                texts.add(_same_text(item.text))
            yield item
        if self.options.selectors:
            for entry in self._selected_items(page.soup, page_url, lang):
                # The markup's reviews are shown on the page too: only the others are new.
                if not (isinstance(entry, RawItem) and _same_text(entry.text) in texts):
                    yield entry
        if first:
            yield from self._aggregate_figures(aggregates, page_url)

    def _review_item(
        self, node: dict[str, Any], parent: dict[str, Any] | None, page_url: str, lang: str | None
    ) -> RawItem | Rejected:
        body = html_to_text(schema_org.first_text(node, "reviewBody", "description", "text"))
        title = html_to_text(schema_org.first_text(node, "name", "headline")) or None
        rating = node.get("reviewRating")
        value, scale = schema_org.read_rating(
            rating if rating is not None else {}, self.options.rating_scale
        )
        if not body and not title and value is None:
            return Rejected(payload=repr(node)[:10_000], position=page_url,
                            reason=f"{page_url}: a Review has no text, title or rating",
                            error_class="EmptyEntry")
        reviewed = schema_org.name_of(node.get("itemReviewed")) or schema_org.name_of(parent)
        author = schema_org.name_of(node.get("author"))
        published = schema_org.parse_date(
            schema_org.first_text(node, "datePublished", "dateCreated")
        )
        text = body or title or ""
        basis = "\x1f".join([reviewed or "", author or "", published.isoformat() if published
                             else "", " ".join(text.split()), str(value)])
        return RawItem(
            external_id=str(node.get("@id") or node.get("url") or
                            "sha256:" + hashlib.sha256(basis.encode()).hexdigest())[:512],
            text=text, title=title if title and title != text else None,
            url=str(node.get("url") or page_url), author=author, published_at=published,
            lang=schema_org.short_lang(schema_org.first_text(node, "inLanguage")) or lang,
            channel=self.options.channel, rating_value=value, rating_scale=scale,
            rating_norm=schema_org.normalize(value, scale),
            extra={"item_reviewed": reviewed, "page": page_url} if reviewed
            else {"page": page_url},
        )

    def _aggregate_figures(
        self, aggregates: list[tuple[dict[str, Any], dict[str, Any] | None]], page_url: str,
    ) -> Iterator[SourceFigures]:
        seen: set[Any] = set()
        for node, parent in aggregates:
            reviewed = (schema_org.name_of(node.get("itemReviewed"))
                        or schema_org.name_of(parent) or "")
            value, scale = schema_org.read_rating(node, self.options.rating_scale)
            count = schema_org.parse_number(node.get("ratingCount"))
            reviews = schema_org.parse_number(node.get("reviewCount"))
            counted = count if count is not None else reviews
            if value is None or scale is None or counted == 0:
                continue  # "0 stars from 0 ratings": nobody rated it yet
            worst, best = schema_org.parse_scale(scale)
            if not worst <= value <= best:
                continue
            # The same average is often marked up twice (JSON-LD and microdata), once unnamed.
            if reviewed in seen or (value, counted) in seen:
                continue
            seen.update((reviewed, (value, counted)))
            yield SourceFigures(
                rating_value=value, worst_rating=worst, best_rating=best,
                rating_count=int(count) if count is not None else None,
                review_count=int(reviews) if reviews is not None else None,
                subject=reviewed or None, url=page_url,
            )

    def _selected_items(
        self, soup: BeautifulSoup, page_url: str, lang: str | None
    ) -> Iterator[RawItem | Rejected]:
        sel = self.options.selectors
        assert sel is not None
        for index, box in enumerate(soup.select(sel.container), 1):
            text = _selected_text(box, sel.text)
            title = _selected_text(box, sel.title) or None
            value: float | None = None
            if sel.rating:
                el = box.select_one(sel.rating)
                raw = el.get(sel.rating_attribute) if el and sel.rating_attribute else (
                    el.get_text(" ") if el else None)
                value = schema_org.parse_number(raw)
            published = None
            if sel.date and (el := box.select_one(sel.date)):
                stamp = el.get("datetime") or el.get("content") or el.get_text(" ")
                published = schema_org.parse_date(str(stamp).strip())
            author = _selected_text(box, sel.author) or None
            if not text and value is None:
                yield Rejected(payload=str(box)[:10_000], position=f"{page_url} review {index}",
                               reason=f"{page_url}: review {index} has no text or rating "
                               f"under the selector {sel.text!r}", error_class="EmptyEntry")
                continue
            scale = self.options.rating_scale if value is not None else None
            basis = "\x1f".join([author or "", str(published or ""), " ".join(text.split()),
                                 str(value)])
            yield RawItem(
                external_id="sha256:" + hashlib.sha256(basis.encode()).hexdigest(),
                text=text or title or "", title=title, url=page_url, author=author,
                published_at=published, lang=lang, channel=self.options.channel,
                rating_value=value, rating_scale=scale,
                rating_norm=schema_org.normalize(value, scale),
                extra={"page": page_url},
            )


class _Page:
    """One fetched page, decoded, with the two parsed forms built only when asked for."""

    def __init__(self, url: str, html: str) -> None:
        self.url, self.html = url, html
        self._tree: Any = None
        self._soup: BeautifulSoup | None = None

    @property
    def tree(self) -> Any:
        if self._tree is None:
            parser = lxml.html.HTMLParser(encoding="utf-8")
            try:
                self._tree = lxml.html.document_fromstring(self.html.encode("utf-8"), parser)
            except (ValueError, lxml.etree.ParserError):  # an empty or markup-free page
                self._tree = lxml.html.Element("html")
        return self._tree

    @property
    def soup(self) -> BeautifulSoup:
        if self._soup is None:
            self._soup = BeautifulSoup(self.html, "lxml")
        return self._soup


def _same_text(text: str) -> str:
    return " ".join(text.lower().split())


def _selected_text(box: Tag, selector: str | None) -> str:
    el = box.select_one(selector) if selector else None
    return " ".join(el.get_text(" ").split()) if el else ""
