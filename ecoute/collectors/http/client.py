"""The HTTP client shared by collectors, built by the runner.

Separate connect and read timeouts; retries with exponential backoff and full jitter on 429,
5xx and timeouts, honouring Retry-After (seconds or HTTP-date); a per-host pace shared by the
whole process; a redirect limit; a streamed body-size limit; a descriptive User-Agent;
conditional GET; robots.txt for crawled pages; and a guard refusing private, loopback,
link-local and metadata addresses unless ``http_allow_private`` is set. The guard resolves the
host once, checks every address, and connects to the checked address (the request is pinned to
it), so a DNS answer that changes between check and connect cannot reach an internal service.
Addresses written in other forms are read as the guard's: IPv4 embedded in IPv6 (mapped,
compatible, NAT64, 6to4, Teredo) is checked as the IPv4 it reaches, and a host such as
``0177.0.0.1`` (octal) is decoded as the resolver would before it is judged. A redirect to another
origin drops the caller's credentials (Authorization, Cookie, API-key headers), as browsers do.
Every failure becomes an ecoute error that names the URL. Tests hand in an ``httpx`` transport
or a real server on 127.0.0.1.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import certifi
import httpx

from ecoute.collectors.http.policy import (
    SHARED_THROTTLE,
    HostThrottle,
    RobotsPolicy,
    parse_retry_after,
)
from ecoute.collectors.http.guard import (
    PRIVATE_HINT,
    checked_parts,
    default_port,
    is_public_address,
    resolve_public,
    same_origin,
    without_credentials,
)
from ecoute.errors import BlockedURL, FetchError, ResponseTooLarge, RobotsDisallowed

__all__ = ["PRIVATE_HINT", "FetchResult", "GuardedTransport", "HttpFetcher",
           "is_public_address", "resolve_public"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
SIZE_HINT = "raise ECOUTE_HTTP_MAX_BYTES if this source is trusted"


@dataclass
class FetchResult:
    url: str
    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle costs tens of milliseconds; one context serves every pool.
    return ssl.create_default_context(cafile=certifi.where())


def _verified_transport() -> httpx.BaseTransport:
    return httpx.HTTPTransport(verify=_tls_context())


class GuardedTransport(httpx.BaseTransport):
    """Resolves, checks and pins every request (each redirect hop included) to a public IP.

    The request goes to the checked IP with the original Host header and TLS server name, so
    certificates are still verified against the host name. Each host name gets its own
    connection pool: two names sharing an IP must never share a TLS connection.
    """

    def __init__(
        self, *, allow_private: bool,
        make_inner: Callable[[], httpx.BaseTransport] | None = None,
        inner: httpx.BaseTransport | None = None,
    ) -> None:
        self.allow_private = allow_private
        self._make_inner = make_inner or _verified_transport
        self._shared = inner
        self._pools: dict[str, httpx.BaseTransport] = {}

    def _inner_for(self, host: str) -> httpx.BaseTransport:
        if self._shared is not None:
            return self._shared
        if host not in self._pools:
            self._pools[host] = self._make_inner()
        return self._pools[host]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if self.allow_private:
            return self._inner_for(url.host).handle_request(request)
        address = resolve_public(str(url), url.host, url.port or (443 if url.scheme == "https"
                                                                    else 80))
        pinned = httpx.Request(
            request.method, url.copy_with(host=address), headers=request.headers,
            stream=request.stream, extensions={**request.extensions, "sni_hostname": url.host},
        )
        return self._inner_for(url.host).handle_request(pinned)

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        if self._shared is not None:
            self._shared.close()


class HttpFetcher:
    """GET with the safety and politeness rules every collector needs."""

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        connect_timeout: float | None = None,
        max_bytes: int = 50_000_000,
        user_agent: str = "ecoute",
        allow_private: bool = False,
        max_redirects: int = 5,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_wait: float = 120.0,
        host_interval: float = 0.0,
        throttle: HostThrottle | None = None,
        robots: RobotsPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.max_redirects = max_redirects
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_wait = max_retry_wait
        self.host_interval = host_interval
        self.throttle = throttle or SHARED_THROTTLE
        self.robots = robots or RobotsPolicy(user_agent)
        self._sleep = sleep
        self._crawl_delays: dict[str, float] = {}
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout or timeout),
            headers={"User-Agent": user_agent},
            follow_redirects=False,  # each hop goes through the scheme check and the guard
            transport=GuardedTransport(allow_private=allow_private, inner=transport),
            trust_env=False,  # a proxy would connect on our behalf, past the address guard
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_url(self, url: str) -> None:
        """Refuse URLs that are not http(s) or that resolve to a non-public address."""
        parts = checked_parts(url, url)
        if not self.allow_private:
            resolve_public(url, parts.hostname or "", default_port(url, parts))

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: dict[str, str] | None = None,
        crawl: bool = False,
    ) -> FetchResult:
        """Fetch ``url``; a 304 answer to the validators comes back with ``not_modified``.

        ``crawl=True`` is for pages found by following links (not an address the user gave):
        they are fetched only where the site's robots.txt allows it.
        """
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        result = self._follow(url, request_headers, crawl=crawl)
        if result.status >= 400:
            raise FetchError(_status_message(result), hint=_status_hint(result.status),
                             status=result.status, body=result.content[:65536])
        return result

    def _follow(self, url: str, headers: dict[str, str], *, crawl: bool) -> FetchResult:
        current = url
        for _hop in range(self.max_redirects + 1):
            checked_parts(current, url)
            if crawl:
                self._check_robots(current)
            result = self._get_with_retries(current, headers)
            if result.status in REDIRECT_STATUSES and "location" in result.headers:
                target = urljoin(current, result.headers["location"])
                if not same_origin(current, target):
                    # Another host must not receive this one's token (and never gets it back).
                    headers = without_credentials(headers)
                current = target
                continue
            return result
        raise FetchError(f"{url}: more than {self.max_redirects} redirects",
                         hint="use the final address of the page as the source address")

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"

        def fetch(robots_url: str) -> tuple[int, bytes]:
            result = self._follow(robots_url, {}, crawl=False)
            return result.status, result.content

        rules = self.robots.rules_for(origin, fetch)
        delay = self.robots.crawl_delay(rules)
        if delay:
            self._crawl_delays[parts.hostname or ""] = min(delay, self.max_retry_wait)
        if not self.robots.allowed(rules, url):
            raise RobotsDisallowed(
                f"{url}: the site's robots.txt does not allow {self.robots.user_agent} "
                "to fetch this page (or robots.txt could not be read)",
                hint="ask the site for a feed or an export, or use an address it allows",
            )

    def _get_with_retries(self, url: str, headers: dict[str, str]) -> FetchResult:
        host = urlsplit(url).hostname or ""
        attempt = 0
        while True:
            self.throttle.wait(host, max(self.host_interval, self._crawl_delays.get(host, 0.0)))
            result: FetchResult | None = None
            try:
                result = self._get_once(url, headers)
            except httpx.TimeoutException as exc:
                if attempt >= self.retries:
                    raise FetchError(
                        f"{url}: no answer in time ({type(exc).__name__}) after "
                        f"{attempt + 1} attempt(s)",
                        hint="the server may be down; raise ECOUTE_HTTP_TIMEOUT if it is slow",
                    ) from exc
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if attempt >= self.retries:
                    raise FetchError(f"{url}: the connection broke ({exc}) after "
                                     f"{attempt + 1} attempt(s)") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}",
                                 hint="check the address and that the server is up") from exc
            except httpx.InvalidURL as exc:
                raise BlockedURL(f"{url}: not an address that can be fetched ({exc})",
                                 hint="check the address of the source") from exc
            else:
                if result.status not in RETRY_STATUSES or attempt >= self.retries:
                    return result
            attempt += 1
            delay = self._delay(attempt, result)
            if delay is None:
                assert result is not None
                return result  # the server asks for longer than a run should wait
            if result is not None and "retry-after" in result.headers:
                self.throttle.push_back(host, delay)
            self._sleep(delay)

    def _delay(self, attempt: int, result: FetchResult | None) -> float | None:
        asked = parse_retry_after(result.headers.get("retry-after")) if result else None
        if asked is not None:
            return asked if asked <= self.max_retry_wait else None
        # Full jitter keeps many sources failing together from retrying in lockstep.
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))

    def _get_once(self, url: str, headers: dict[str, str]) -> FetchResult:
        with self._client.stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise ResponseTooLarge(
                    f"{url}: {declared} bytes announced, the limit is {self.max_bytes}",
                    hint=SIZE_HINT,
                )
            chunks: list[bytes] = []
            size = 0
            # iter_bytes decompresses, so a small gzip bomb is stopped at the same limit.
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise ResponseTooLarge(
                        f"{url}: body larger than the limit of {self.max_bytes} bytes",
                        hint=SIZE_HINT,
                    )
                chunks.append(chunk)
            return FetchResult(
                url=url,
                status=response.status_code,
                content=b"".join(chunks),
                headers={k.lower(): v for k, v in response.headers.items()},
            )


def _status_message(result: FetchResult) -> str:
    status = result.status
    if status in (404, 410):
        what = "there is no such page"
    elif status in (401, 403):
        what = "access is refused"
    elif status == 429:
        what = "too many requests"
    elif status >= 500:
        what = "the server failed"
    else:
        what = "the request was refused"
    message = f"{result.url}: {what} (HTTP {status})"
    wait = result.headers.get("retry-after")
    if status in RETRY_STATUSES and wait:
        message += f"; the server asks to retry after {wait}"
    return message


def _status_hint(status: int) -> str | None:
    if status in (404, 410):
        return "check the address of the source"
    if status in (401, 403):
        return "the site may need a key or may block collectors; ask it for a feed or export"
    if status in RETRY_STATUSES:
        return "this is often temporary; the next scheduled run will try again"
    return None
