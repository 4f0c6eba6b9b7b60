"""HTML to readable text, one way for every collector (feeds, review pages, mail, posts).

A stream, not a tree: the tokenizer BeautifulSoup's html.parser builder uses, without the tree,
whose building grows faster than the input on thousands of unclosed nested tags. Inline
elements join their text as a browser shows it ("#<span>tag</span>" is "#tag"); block elements
and line breaks separate words, and with ``paragraphs`` they become blank lines.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

#: Markup still visible after one reduction: text that was escaped twice.
_LEFTOVER_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
#: Elements whose content is never text (feedparser's sanitizer drops the same ones).
_NOT_TEXT = frozenset({"script", "style", "applet", "head", "title", "template", "noscript"})
BLOCK_TAGS = frozenset({
    "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5",
    "h6", "blockquote", "section", "article", "header", "footer", "pre", "hr", "dd", "dt",
})
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed",
                   "source", "track", "wbr", "param"})
#: What mail clients put around the quoted original and the signature: dropped with
#: ``drop_quotes`` (blockquote, Gmail, Thunderbird); Outlook's markers start everything that
#: follows, which is dropped too.
_QUOTE_CLASSES = frozenset({"gmail_quote", "gmail_signature", "moz-cite-prefix", "moz-signature"})
_QUOTE_IDS = frozenset({"Signature"})
_QUOTE_TAIL_IDS = frozenset({"divRplyFwdMsg", "appendonsend"})
_PARAGRAPH = "\x00"
#: A text longer than the stored maximum is read from a prefix of its HTML: this many times
#: the maximum at first (ordinary markup is a fraction of the text), doubled while the prefix
#: gives too little text, up to ``HTML_MAX_FACTOR`` times the maximum, past which the entry is
#: markup, not feedback.
HTML_FIRST_FACTOR = 4
HTML_MAX_FACTOR = 8
#: Characters beyond the maximum that a prefix must give: its last ones may be a tag or an
#: entity cut in the middle.
_CUT_MARGIN = 64


class _TextOf(HTMLParser):
    def __init__(self, drop_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.drop_quotes = drop_quotes
        self.hidden = 0  # depth inside elements whose content is not text
        self.dropped: list[str] = []  # open dropped elements (name), innermost last
        self.done = False  # past an Outlook reply marker

    def _is_quote(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        found = dict(attrs)
        classes = set((found.get("class") or "").split())
        if found.get("id") in _QUOTE_TAIL_IDS:
            self.done = True
        return tag == "blockquote" or bool(classes & _QUOTE_CLASSES) \
            or found.get("id") in _QUOTE_IDS

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.dropped:
            if tag == self.dropped[-1] and tag not in _VOID:
                self.dropped.append(tag)
            return
        if self.drop_quotes and tag not in _VOID and self._is_quote(tag, attrs):
            self.dropped.append(tag)
            return
        if tag in _NOT_TEXT:
            self.hidden += 1
        elif tag == "br":
            self.pieces.append("\n")
        elif tag in BLOCK_TAGS:
            self.pieces.append(_PARAGRAPH)

    def handle_startendtag(self, tag: str, attrs: Any) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.dropped:
            if tag == self.dropped[-1]:
                self.dropped.pop()
            return
        if tag in _NOT_TEXT and self.hidden:
            self.hidden -= 1
        elif tag in BLOCK_TAGS:
            self.pieces.append(_PARAGRAPH)

    def handle_data(self, data: str) -> None:
        if not self.hidden and not self.dropped and not self.done:
            self.pieces.append(data)


def _reduce(html: str, paragraphs: bool, drop_quotes: bool) -> str:
    parser = _TextOf(drop_quotes)
    parser.feed(html)
    parser.close()
    text = "".join(parser.pieces)
    if not paragraphs:
        return text.replace(_PARAGRAPH, " ")
    return "\n\n".join(" ".join(p.split()) for p in text.split(_PARAGRAPH) if p.strip())


def html_to_text(html: str, *, paragraphs: bool = False, drop_quotes: bool = False) -> str:
    """Readable text of an HTML fragment or page: scripts and styles dropped, whitespace
    collapsed (with ``paragraphs``, blocks become paragraphs separated by a blank line; with
    ``drop_quotes``, the quoted original of a reply and the signature are dropped).

    Up to two more passes handle text whose HTML was escaped twice, so that no tag (a
    ``<script>`` or an ``on*=`` handler) survives into stored text as literal characters.
    """
    text = html
    for _pass in range(3):
        if "<" not in text:
            # Entities only: no parser needed (and none to guess that a bare URL is markup).
            text = htmllib.unescape(text) if "&" in text else text
            if "<" not in text:
                break
            continue
        reduced = _reduce(text, paragraphs, drop_quotes)
        if reduced == text or not _LEFTOVER_MARKUP.search(reduced):
            text = reduced
            break
        text = reduced
    if paragraphs:
        return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip())
    return " ".join(text.split())


def bounded_html_to_text(
    html: str, max_chars: int, prepare: Callable[[str], str] | None = None
) -> tuple[str, int | None]:
    """(readable text of ``html``, None), or, when that text would be longer than
    ``max_chars``, (its first ``max_chars`` characters, the length of ``html``).

    The HTML of a 30 MB entry is not read whole to keep 100,000 characters of it: only a
    prefix long enough to give them is, so the time depends on ``max_chars``, not on the
    entry. The length recorded for a cut is the HTML's (its text's is not known without
    reading it all). ``prepare`` (a sanitizer) is applied to what is read, before it."""
    prepare = prepare or str
    window = max(HTML_FIRST_FACTOR * max_chars, 65_536)
    while len(html) > window:
        text = html_to_text(prepare(_prefix(html, window)))
        if len(text) > max_chars + _CUT_MARGIN or window >= HTML_MAX_FACTOR * max_chars:
            return text[:max_chars], len(html)
        window = min(2 * window, HTML_MAX_FACTOR * max_chars)
    return html_to_text(prepare(html)), None


def _prefix(html: str, size: int) -> str:
    """The first ``size`` characters of ``html``, without a tag or entity cut in the middle
    (it would come out as literal text)."""
    end = size
    tag = html.rfind("<", 0, end)
    if tag > html.rfind(">", 0, end):
        end = tag
    entity = html.rfind("&", max(0, end - 32), end)
    if entity >= 0 and ";" not in html[entity:end]:
        end = entity
    return html[:end]
