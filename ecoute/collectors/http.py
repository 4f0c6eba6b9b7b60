"""The HTTP client shared by collectors, built by the runner.

Timeouts, retries with backoff on 429/5xx honouring Retry-After, a redirect limit, a streamed
body-size limit, a descriptive User-Agent, conditional GET, and a guard refusing private,
loopback, link-local and metadata addresses unless ``http_allow_private`` is set. Every failure
becomes an ecoute error that names the URL. Tests hand in an ``httpx`` transport or a real
server on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import random
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from ecoute.errors import BlockedURL, FetchError, ResponseTooLarge

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass
class FetchResult:
    url: str
    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class HttpFetcher:
    """GET with the safety rules every collector needs."""

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        max_bytes: int = 50_000_000,
        user_agent: str = "ecoute",
        allow_private: bool = False,
        max_redirects: int = 5,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.max_redirects = max_redirects
        self.retries = retries
        self.backoff = backoff
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": user_agent},
            follow_redirects=False,  # each hop goes through the address guard
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_url(self, url: str) -> None:
        """Refuse URLs that are not http(s) or that resolve to a non-public address."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BlockedURL(f"{url}: only http and https URLs can be fetched")
        if self.allow_private:
            return
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise FetchError(f"{url}: host {parts.hostname} not found ({exc})") from exc
        for info in infos:
            if not _is_public(str(info[4][0])):
                raise BlockedURL(
                    f"{url}: {parts.hostname} resolves to the non-public address {info[4][0]}",
                    hint="set ECOUTE_HTTP_ALLOW_PRIVATE=true only for trusted intranet sources",
                )

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> FetchResult:
        """Fetch ``url``; a 304 answer to the validators comes back with ``not_modified``."""
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(self.max_redirects + 1):
            result = self._get_with_retries(current, request_headers)
            if result.status in (301, 302, 303, 307, 308) and "location" in result.headers:
                current = urljoin(current, result.headers["location"])
                continue
            if result.status >= 400:
                raise FetchError(f"{current}: the server answered HTTP {result.status}")
            return result
        raise FetchError(f"{url}: more than {self.max_redirects} redirects")

    def _get_with_retries(self, url: str, headers: dict[str, str]) -> FetchResult:
        self.check_url(url)
        attempt = 0
        while True:
            result: FetchResult | None = None
            try:
                result = self._get_once(url, headers)
            except httpx.TimeoutException as exc:
                if attempt >= self.retries:
                    raise FetchError(f"{url}: timed out after {attempt + 1} attempts") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
            else:
                if result.status not in RETRY_STATUSES or attempt >= self.retries:
                    return result
            attempt += 1
            time.sleep(self._delay(attempt, result))

    def _delay(self, attempt: int, result: FetchResult | None) -> float:
        retry_after = result.headers.get("retry-after") if result else None
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), 60.0)
        # Full jitter keeps many sources failing together from retrying in lockstep.
        return random.uniform(0, self.backoff * 2**attempt)

    def _get_once(self, url: str, headers: dict[str, str]) -> FetchResult:
        with self._client.stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise ResponseTooLarge(
                    f"{url}: {declared} bytes announced, the limit is {self.max_bytes}",
                    hint="raise ECOUTE_HTTP_MAX_BYTES if this source is trusted",
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise ResponseTooLarge(
                        f"{url}: body larger than the limit of {self.max_bytes} bytes",
                        hint="raise ECOUTE_HTTP_MAX_BYTES if this source is trusted",
                    )
                chunks.append(chunk)
            return FetchResult(
                url=str(response.url),
                status=response.status_code,
                content=b"".join(chunks),
                headers={k.lower(): v for k, v in response.headers.items()},
            )
