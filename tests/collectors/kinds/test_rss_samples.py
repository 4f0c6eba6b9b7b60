"""The rss collector over every feedparser sample (wellformed, illformed, encoding, entities,
json): one test per file, run directly on the collector (no database), so the 2,100 files take
seconds. Files whose path holds "http" are served by a local server with the headers their
``Header:`` lines give, as feedparser's own suite does.

Each sample's ``Expect:`` expression (a Python expression over feedparser's result) says
whether the file is "bozo" (malformed) and, often, what an entry's title, link, id, content or
date is; where those map to item fields, the item must hold the same value.
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import pytest

from ecoute.collectors.base import CollectContext, RawItem, Rejected
from ecoute.collectors.kinds.rss_entries import safe_link, struct_to_utc
from ecoute.collectors.text import html_to_text
from ecoute.collectors.http.client import HttpFetcher
from ecoute.collectors.kinds.rss import RssCollector
from ecoute.config.settings import Settings
from tests.conftest import TEST_DATA, needs_test_data
from tests.helpers.local_http import serving

pytestmark = needs_test_data
SAMPLES = TEST_DATA / "feeds" / "feedparser"
FILES = sorted(p for p in SAMPLES.rglob("*") if p.is_file())
HEADER_LINE = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)
#: A tag that would run code if the stored text were ever rendered as HTML.
ACTIVE_MARKUP = re.compile(r"<\s*script|<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def _header_text(path: Path) -> str:
    head = path.read_bytes()[:4000]
    if b"\x00" in head:  # UTF-16/32 samples: the comment is ASCII once the NULs are gone
        head = head.replace(b"\x00", b"")
    return head.decode("utf-8", "replace")


@dataclass(frozen=True)
class Sample:
    path: Path
    expect: str | None
    skip_unless: str | None

    @property
    def rel(self) -> str:
        return self.path.relative_to(SAMPLES).as_posix()

    @property
    def over_http(self) -> bool:
        return "http" in self.rel

    def applies(self) -> bool:
        if not self.skip_unless:
            return True
        try:
            return bool(eval(self.skip_unless, {"feedparser": feedparser}))
        except (ImportError, LookupError, AttributeError):
            return False


def _sample(path: Path) -> Sample:
    text = _header_text(path)
    expect = re.search(r"Expect:\s*(.*?)\s*(?:-->|$)", text, re.MULTILINE)
    skip = re.search(r"SkipUnless:\s*(.*)$", text, re.MULTILINE)
    return Sample(path, expect.group(1).strip() if expect else None,
                  skip.group(1).strip() if skip else None)


class _SampleHandler(SimpleHTTPRequestHandler):
    """Serves a sample with the headers of its ``Header:`` lines (as feedparser's suite)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(SAMPLES), **kwargs)

    def log_message(self, *args: object) -> None:
        pass

    def send_head(self) -> io.BytesIO:  # type: ignore[override]
        path = self.translate_path(self.path)
        body = Path(path).read_bytes()
        headers = {k.decode().strip().lower(): v.decode().strip()
                   for k, v in HEADER_LINE.findall(body)}
        self.send_response(int(headers.pop("status", 200)))
        self.send_header("Content-Type", headers.pop("content-type", self.guess_type(path)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@pytest.fixture(scope="module")
def sample_server() -> Iterator[str]:
    """Base URL of a server on 127.0.0.1 serving the samples folder."""
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _SampleHandler)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def http() -> Iterator[HttpFetcher]:
    with HttpFetcher(allow_private=True, retries=0) as fetcher:
        yield fetcher


SETTINGS = Settings(database_url="sqlite:///unused.db", http_allow_private=True)


def collect(url: str, http: HttpFetcher) -> list[RawItem | Rejected]:
    collector = RssCollector(RssCollector.Options(url=url))
    ctx = CollectContext(source_name="sample", options=collector.options, settings=SETTINGS,
                         http=http)
    return list(collector.collect(ctx))


# --- what an Expect expression says about entries -------------------------------------------


def _path(node: ast.expr) -> list[Any] | None:
    """``entries[0]['content'][0]['value']`` → ['entries', 0, 'content', 0, 'value']."""
    parts: list[Any] = []
    while True:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            parts.append(node.slice.value)
            node = node.value
        elif isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            return parts[::-1]
        else:
            return None


def entry_claims(expect: str) -> list[tuple[int, tuple[Any, ...], Any]]:
    """(entry index, field path, expected value) for each ``entries[i][...] == literal`` that
    the expression requires (top-level ``and`` terms only)."""
    try:
        body = ast.parse(expect, mode="eval").body
    except SyntaxError:
        return []
    terms = body.values if isinstance(body, ast.BoolOp) and isinstance(body.op, ast.And) \
        else [body]
    claims = []
    for term in terms:
        if not (isinstance(term, ast.Compare) and len(term.ops) == 1
                and isinstance(term.ops[0], ast.Eq)):
            continue
        path = _path(term.left)
        try:
            value = ast.literal_eval(term.comparators[0])
        except ValueError:
            continue
        if path and len(path) > 2 and path[0] == "entries" and isinstance(path[1], int):
            claims.append((path[1], tuple(path[2:]), value))
    return claims


TITLE = {("title",), ("title_detail", "value")}
BODY = {("content", 0, "value")}
SUMMARY = {("description",), ("summary",), ("summary_detail", "value")}
DATES = {("published_parsed",): "published_parsed", ("updated_parsed",): "updated_parsed",
         ("created_parsed",): "created_parsed"}


@cache
def _reference(path: Path, url: str) -> Any:
    return feedparser.parse(url if url.startswith("http") else str(path))


def field_problems(sample: Sample, url: str, base: str, out: list[RawItem | Rejected]) -> list[str]:
    per_entry = [o for o in out if isinstance(o, RawItem) or o.position.startswith("entry ")]
    problems: list[str] = []
    for index, field, value in entry_claims(sample.expect or ""):
        if isinstance(value, str):
            value = value.replace("http://127.0.0.1:8097", base)
        if index >= len(per_entry):
            problems.append(f"entries[{index}] missing (only {len(per_entry)} read)")
            continue
        item = per_entry[index]
        ref = _reference(sample.path, url).entries[index]
        got: Any
        if field in TITLE or field in BODY or field in SUMMARY:
            want: Any = html_to_text(value) if isinstance(value, str) else None
            if field in SUMMARY and any(c.get("value") for c in ref.get("content") or []):
                continue  # the item's text is the fuller content, not the summary
            if not want:
                # Nothing survives sanitizing: no text of it may reach the item either.
                if isinstance(item, RawItem) and (
                    item.title if field in TITLE else item.text != (item.title or "")
                ):
                    problems.append(f"entries[{index}] {field}: expected nothing, item has "
                                    f"{(item.title if field in TITLE else item.text)!r}")
                continue
            if isinstance(item, Rejected):
                problems.append(f"entries[{index}] {field}: rejected ({item.reason})")
                continue
            got = item.title if field in TITLE else item.text
        elif field == ("link",):
            if isinstance(item, Rejected):
                continue
            got, want = item.url, safe_link(value)
        elif field in {("id",), ("guid",)}:
            if isinstance(item, Rejected) or not value:
                continue
            got, want = item.external_id, value[:512]
        elif field in DATES:
            key = DATES[field]
            earlier = ["published_parsed", "updated_parsed", "created_parsed"]
            if isinstance(item, Rejected) or any(
                struct_to_utc(ref.get(k)) for k in earlier[:earlier.index(key)]
            ):
                continue  # the item's date is the publication date, taken first
            got, want = item.published_at, struct_to_utc(value)
        else:
            continue
        if got != want:
            problems.append(f"entries[{index}] {'/'.join(map(str, field))}: "
                            f"expected {want!r}, item has {got!r}")
    return problems


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(SAMPLES).as_posix() for p in FILES])
def test_feedparser_sample(path: Path, sample_server: str, http: HttpFetcher) -> None:
    sample = _sample(path)
    url = f"{sample_server}/{sample.rel}" if sample.over_http else str(path)
    out = collect(url, http)  # no exception may escape, whatever the file holds

    assert all(isinstance(o, RawItem | Rejected) for o in out)
    assert out, "a sample gave neither an item nor a quarantine record"
    for rejected in out:
        if isinstance(rejected, Rejected):
            assert rejected.reason.startswith(url) and rejected.position and rejected.payload
    for item in (o for o in out if isinstance(o, RawItem)):
        assert item.external_id and item.text
        assert item.published_at is None or item.published_at.utcoffset() is not None
        for value in (item.text, item.title or ""):
            assert not ACTIVE_MARKUP.search(value), f"active markup kept: {value[:200]!r}"
            if sample.rel.startswith("encoding/") and sample.expect \
                    and sample.expect.startswith("not bozo"):
                assert "\ufffd" not in value, f"undecodable characters in {value[:200]!r}"

    if not sample.expect or not sample.applies():
        return
    flagged = [o for o in out if isinstance(o, Rejected) and not o.position.startswith("entry ")
               and o.error_class != "EmptyFeed"]  # well formed, only empty
    if sample.expect.startswith("bozo"):
        assert flagged, "feedparser calls this sample bozo but it was not flagged as malformed"
    elif sample.expect.startswith("not bozo"):
        assert not flagged, f"a well-formed sample was flagged: {flagged[0].reason}"
    problems = field_problems(sample, url, sample_server, out)
    assert not problems, "; ".join(problems)
