"""Posts about the authority on a Mastodon instance: hashtag timelines (public), and with an
access token the account's mentions and a full-text search.

Timelines are read newest first, page by page along the ``Link: rel="next"`` header, down to
the newest status stored by the last run (``since_id``, kept per timeline in the source's
cursor, and moved only once a timeline has been read in full so that it never runs ahead of
what is stored). A boost is collected as the status it boosts, so a post boosted ten times is
one item. A ``next`` link to another server is not followed (it would receive the token).
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from ecoute.collectors.base import CollectContext, Collector, CollectorOptions, RawItem, Rejected
from ecoute.collectors.http.guard import same_origin
from ecoute.collectors.limits import loads_bounded
from ecoute.collectors.text import html_to_text
from ecoute.errors import ParseError
from ecoute.domain import Channel

LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([a-z]+)"?')


def _id_key(value: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings that grow with time; compare them as numbers."""
    return (len(value), value) if value.isdigit() else (0, value)


class MastodonCollector(Collector):
    """Mastodon posts: hashtag timelines, and with an access token mentions of the account
    and a full-text search."""

    kind = "mastodon"
    channel = Channel.SOCIAL
    default_schedule = "every 30 minutes"

    class Options(CollectorOptions):
        instance: str = Field(description="Address of the instance, e.g. https://mastodon.social")
        hashtags: list[str] = Field(
            default_factory=list, description="Hashtags to follow, without the #."
        )
        mentions: bool = Field(
            False, description="Collect the posts mentioning the account (needs access_token)."
        )
        search: str | None = Field(
            None, description="Full-text search of posts (needs access_token)."
        )
        access_token: SecretStr | None = Field(
            None, description="Bearer token of an application of the authority's account "
            "(secret: never shown)."
        )
        page_size: int = Field(40, ge=1, le=40, description="Posts asked per page (40 at most).")
        max_pages: int = Field(
            10, ge=1, le=1000, description="Most pages read per timeline in one run."
        )

        @field_validator("instance")
        @classmethod
        def _instance(cls, value: str) -> str:
            value = value.strip().rstrip("/")
            if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
                raise ValueError("the instance must be an http(s) address like "
                                 "https://mastodon.social")
            return value

        @field_validator("hashtags")
        @classmethod
        def _tags(cls, value: list[str]) -> list[str]:
            tags = [t.strip().lstrip("#") for t in value]
            if any(not t or not re.fullmatch(r"\w+", t) for t in tags):
                raise ValueError("a hashtag is empty or holds spaces or punctuation")
            return tags

        @model_validator(mode="after")
        def _something(self) -> MastodonCollector.Options:
            if not (self.hashtags or self.mentions or self.search):
                raise ValueError("give hashtags, mentions=true or a search")
            if (self.mentions or self.search) and not self.access_token:
                raise ValueError("mentions and search need an access_token")
            return self

    options: Options

    def collect(self, ctx: CollectContext) -> Iterator[RawItem | Rejected]:
        opts = self.options
        timelines: list[tuple[str, str, dict[str, Any]]] = [
            (f"tag:{t}", f"/api/v1/timelines/tag/{quote(t)}", {}) for t in opts.hashtags]
        if opts.mentions:
            timelines.append(("mentions", "/api/v1/notifications", {"types[]": "mention"}))
        if opts.search:
            timelines.append(("search", "/api/v2/search",
                              {"q": opts.search, "type": "statuses", "resolve": "false"}))
        since: dict[str, str] = dict(ctx.cursor.get("since_id", {}))
        for key, path, params in timelines:
            newest = yield from self._timeline(ctx, key, path, params, since.get(key))
            if newest:
                since[key] = newest
                ctx.cursor["since_id"] = dict(since)

    def _timeline(
        self, ctx: CollectContext, key: str, path: str, params: dict[str, Any],
        since_id: str | None,
    ) -> Generator[RawItem | Rejected, None, str | None]:
        opts = self.options
        query = {**params, "limit": opts.page_size}
        if since_id:
            # v2 search pages by min_id; timelines and notifications by since_id.
            query["min_id" if key == "search" else "since_id"] = since_id
        url: str | None = f"{opts.instance}{path}?{urlencode(query)}"
        headers = ({"Authorization": f"Bearer {opts.access_token.get_secret_value()}"}
                   if opts.access_token else {})
        newest: str | None = None
        for _page in range(opts.max_pages):
            if url is None:
                break
            result = ctx.http.get(url, headers=headers)
            try:
                data = loads_bounded(result.content, ctx.limits.json_max_depth, what=url)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                yield Rejected(payload=result.content, position=url,
                               reason=f"{url}: not JSON ({exc})")
                break
            except ParseError as exc:
                yield Rejected(payload=result.content[:20_000], position=url, reason=str(exc),
                               error_class=exc.name)
                break
            entries = data.get("statuses", []) if isinstance(data, dict) else data
            if not isinstance(entries, list):
                yield Rejected(payload=result.content, position=url,
                               reason=f"{url}: expected a list of statuses")
                break
            reached_stored = False
            for index, entry in enumerate(entries):
                entry_id = str(entry.get("id", "")) if isinstance(entry, dict) else ""
                if since_id and entry_id and _id_key(entry_id) <= _id_key(since_id):
                    reached_stored = True
                    continue
                if entry_id and (newest is None or _id_key(entry_id) > _id_key(newest)):
                    newest = entry_id
                status = entry.get("status") if key == "mentions" else entry
                yield self._item(status, f"{url} #{index + 1}")
            next_url = _links(result.headers.get("link", "")).get("next")
            if reached_stored or not entries or key == "search" or not next_url:
                break
            target = urljoin(url, next_url)
            if not same_origin(url, target):
                # The token goes with every page: a page elsewhere would receive it.
                yield Rejected(payload=target, position=url, error_class="BlockedURL",
                               reason=f"{url}: the next page is on another server ({target}); "
                               "not followed")
                break
            url = target
        else:
            if url is not None:
                # The cursor moves past what was read: older posts would be lost unnoticed.
                ctx.warn(f"{key}: stopped after max_pages={opts.max_pages} pages, older posts "
                         "may remain unread; raise max_pages to read them")
        return newest

    def _item(self, status: Any, position: str) -> RawItem | Rejected:
        if not isinstance(status, dict) or not status.get("id"):
            return Rejected(payload=repr(status)[:10_000], position=position,
                            reason=f"{position}: not a Mastodon status")
        booster = None
        if isinstance(status.get("reblog"), dict):
            booster = (status.get("account") or {}).get("acct")
            status = status["reblog"]
        text = html_to_text(status.get("content") or "")
        warning = (status.get("spoiler_text") or "").strip() or None
        if not text and not warning:
            return Rejected(payload=json.dumps(status)[:10_000], position=position,
                            reason=f"{position}: status {status['id']} has no text",
                            error_class="EmptyEntry")
        account = status.get("account") or {}
        try:
            published = datetime.fromisoformat(str(status.get("created_at")))
        except ValueError:
            published = None
        language = status.get("language")
        return RawItem(
            external_id=str(status.get("uri") or status["id"])[:512],
            text=text or warning or "", title=warning, url=status.get("url") or status.get("uri"),
            author=account.get("acct"), published_at=published,
            lang=str(language).split("-")[0].lower() if language else None,
            channel=Channel.SOCIAL,
            extra={
                "status_id": str(status["id"]), "instance": self.options.instance,
                "tags": [t.get("name") for t in status.get("tags") or [] if isinstance(t, dict)],
                "replies_count": status.get("replies_count"),
                "reblogs_count": status.get("reblogs_count"),
                "favourites_count": status.get("favourites_count"),
                "in_reply_to_id": status.get("in_reply_to_id"),
                **({"seen_as_boost_by": booster} if booster else {}),
            },
        )


def _links(header: str) -> dict[str, str]:
    """The ``rel`` → URL pairs of a Link header."""
    return {rel: url for url, rel in LINK.findall(header)}
