"""The mastodon collector against a local server replaying recorded API answers
(tests/fixtures/mastodon, shaped after the Status and Notification entities of the API docs)
with since_id/max_id/min_id, limits, Link headers and bearer-token checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy.orm import Session, sessionmaker

from ecoute.collectors.kinds.mastodon import MastodonCollector
from ecoute.collectors.registry import validate_options
from ecoute.collectors.service import add_source, run_source
from ecoute.config.settings import Settings
from ecoute.errors import FetchError, InvalidOptions
from ecoute.store.db import session_scope
from ecoute.store.models import Source
from tests.conftest import FIXTURES
from tests.helpers.collect import collect_all
from tests.helpers.local_http import serving

RECORDED = FIXTURES / "mastodon"
TOKEN = "s3cret-token"


def _key(value: str) -> int:
    return int(value)


class MastodonServer:
    """Pages a list of entries newest first the way Mastodon does."""

    def __init__(self) -> None:
        self.timeline: list[dict[str, Any]] = json.loads(
            (RECORDED / "tag_timeline.json").read_text())
        self.notifications = json.loads((RECORDED / "notifications.json").read_text())
        self.search = json.loads((RECORDED / "search.json").read_text())
        self.requests: list[tuple[str, dict[str, str], str | None]] = []
        self.base_url = ""

    def answer(self, path: str, query: dict[str, str], auth: str | None
               ) -> tuple[int, dict[str, str], bytes]:
        self.requests.append((path, query, auth))
        if path.startswith("/api/v1/timelines/tag/"):
            entries = self.timeline
        elif path in ("/api/v1/notifications", "/api/v2/search"):
            if auth != f"Bearer {TOKEN}":
                return 401, {}, b'{"error":"The access token is invalid"}'
            if path == "/api/v2/search":
                return 200, {}, json.dumps(self.search).encode()
            entries = self.notifications
        else:
            return 404, {}, b'{"error":"Record not found"}'
        limit = int(query.get("limit", 20))
        chosen = [e for e in entries
                  if ("since_id" not in query or _key(e["id"]) > _key(query["since_id"]))
                  and ("max_id" not in query or _key(e["id"]) < _key(query["max_id"]))][:limit]
        headers = {}
        if chosen:
            older = {k: v for k, v in query.items() if k not in ("since_id", "max_id")}
            nxt = f"{self.base_url}{path}?{urlencode({**older, 'max_id': chosen[-1]['id']})}"
            prev = f"{self.base_url}{path}?{urlencode({**older, 'min_id': chosen[0]['id']})}"
            headers["Link"] = f'<{nxt}>; rel="next", <{prev}>; rel="prev"'
        return 200, headers, json.dumps(chosen, ensure_ascii=False).encode()


@pytest.fixture
def mastodon() -> Iterator[MastodonServer]:
    state = MastodonServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            status, headers, body = state.answer(parts.path, query,
                                                 self.headers.get("Authorization"))
            self.send_response(status)
            for name, value in {**headers, "Content-Type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as base_url:
        state.base_url = base_url
        yield state


def collector(**options: Any) -> MastodonCollector:
    return MastodonCollector(MastodonCollector.Options(**options))


def test_hashtag_timeline_pages_and_boosts(mastodon: MastodonServer, tmp_path: Path) -> None:
    items, rejected, ctx = collect_all(collector(
        instance=mastodon.base_url, hashtags=["#MairieDeValmont"], page_size=2), tmp=tmp_path)
    assert not rejected
    tag_requests = [q for p, q, _ in mastodon.requests if "/tags/" in p or "/tag/" in p]
    assert len(tag_requests) == 4  # three pages of 2, and the empty one that ends the list
    assert [q.get("max_id") for q in tag_requests[1:]] == [
        "110000000000000105", "110000000000000103", "110000000000000101"]
    ids = [i.external_id for i in items]
    # The boost of 105 and 105 itself are one post; the boost of 90 is the remote original.
    assert ids.count("https://piaille.fr/users/claire/statuses/110000000000000105") == 2
    assert "https://mastodon.social/users/ana/statuses/109900000000000090" in ids
    first = items[0]
    assert first.author == "claire@piaille.fr" and first.lang == "fr"
    assert first.text == ("La piscine municipale est fermée sans prévenir, deuxième fois ce "
                          "mois-ci 😡 #MairieDeValmont")
    assert first.extra["seen_as_boost_by"] == "relay@bot.example"
    assert first.url == "https://piaille.fr/@claire/110000000000000105"
    assert first.published_at is not None and first.published_at.isoformat().startswith(
        "2026-03-02T09:15")
    warned = next(i for i in items if i.title == "attente")
    assert warned.text == ("45 minutes au guichet de l'état civil & personne pour orienter. "
                           "#MairieDeValmont")
    assert next(i for i in items if "Horaires" in i.text).lang is None
    assert ctx.cursor == {"since_id": {"tag:MairieDeValmont": "110000000000000106"}}
    assert ctx.warnings == []


def test_page_limit_is_reported(mastodon: MastodonServer, tmp_path: Path) -> None:
    items, _, ctx = collect_all(collector(
        instance=mastodon.base_url, hashtags=["MairieDeValmont"], page_size=2, max_pages=2),
        tmp=tmp_path)
    assert len([p for p, _, _ in mastodon.requests if "/tag/" in p]) == 2
    [warning] = ctx.warnings
    assert warning.startswith("tag:MairieDeValmont: stopped after max_pages=2 pages")


def test_since_id_reads_only_newer_posts(mastodon: MastodonServer, tmp_path: Path) -> None:
    cursor = {"since_id": {"tag:MairieDeValmont": "110000000000000104"}}
    items, _, ctx = collect_all(collector(instance=mastodon.base_url,
                                          hashtags=["MairieDeValmont"]),
                                cursor=cursor, tmp=tmp_path)
    assert {i.extra["status_id"] for i in items} == {"110000000000000105"}
    assert mastodon.requests[0][1]["since_id"] == "110000000000000104"
    assert ctx.cursor["since_id"]["tag:MairieDeValmont"] == "110000000000000106"
    _, _, unchanged = collect_all(collector(instance=mastodon.base_url,
                                            hashtags=["MairieDeValmont"]),
                                  cursor=ctx.cursor, tmp=tmp_path)
    assert unchanged.cursor == ctx.cursor


def test_mentions_and_search_with_a_token(mastodon: MastodonServer, tmp_path: Path) -> None:
    items, rejected, ctx = collect_all(collector(
        instance=mastodon.base_url, mentions=True, search="mairie", access_token=TOKEN),
        tmp=tmp_path)
    assert not rejected
    texts = [i.text for i in items]
    assert texts[0] == "@mairie la rue des Lilas n'est toujours pas déneigée."
    assert len(items) == 4 and items[0].external_id == items[3].external_id
    notif = next(q for p, q, _ in mastodon.requests if p == "/api/v1/notifications")
    assert notif["types[]"] == "mention"
    assert ctx.cursor["since_id"]["mentions"] == "3001"
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in mastodon.requests)


def test_wrong_token_is_a_fetch_error(mastodon: MastodonServer, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="401"):
        collect_all(collector(instance=mastodon.base_url, mentions=True, access_token="bad"),
                    tmp=tmp_path)


def test_a_broken_entry_is_quarantined(mastodon: MastodonServer, tmp_path: Path) -> None:
    mastodon.timeline[1] = {"id": "110000000000000105", "content": "", "spoiler_text": ""}
    items, rejected, _ = collect_all(collector(instance=mastodon.base_url,
                                               hashtags=["MairieDeValmont"]), tmp=tmp_path)
    assert len(items) == 5 and len(rejected) == 1 and "has no text" in rejected[0].reason


def test_runner_dedupes_boosts_and_keeps_the_cursor(
    mastodon: MastodonServer, factory: sessionmaker[Session], settings: Settings
) -> None:
    with session_scope(factory) as session:
        source_id = add_source(session, authority="demo", name="toots", kind="mastodon",
                               options={"instance": mastodon.base_url,
                                        "hashtags": ["MairieDeValmont"]}).id
    first = run_source(factory, settings, source_id)
    assert (first.new, first.duplicate, first.quarantined) == (5, 1, 0)
    second = run_source(factory, settings, source_id)
    assert (second.new, second.fetched) == (0, 0)
    with session_scope(factory) as session:
        source = session.get(Source, source_id)
        assert source is not None
        assert source.cursor == {"since_id": {"tag:MairieDeValmont": "110000000000000106"}}


@pytest.mark.parametrize("options", [
    {"instance": "mastodon.social", "hashtags": ["a"]},
    {"instance": "https://mastodon.social"},
    {"instance": "https://mastodon.social", "mentions": True},
    {"instance": "https://mastodon.social", "hashtags": ["two words"]},
])
def test_invalid_options(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidOptions):
        validate_options("mastodon", options)
