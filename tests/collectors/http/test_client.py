"""The shared HTTP client against a real server on 127.0.0.1 (and a mock transport where a real
server cannot show it: public-looking hosts resolving to private addresses)."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from ecoute.collectors.http.client import HttpFetcher, is_public_address
from ecoute.collectors.http.policy import HostThrottle, RobotsPolicy, parse_retry_after
from ecoute.errors import BlockedURL, FetchError, ResponseTooLarge, RobotsDisallowed
from tests.helpers.local_http import serving


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunked: bool = False  # no Content-Length: the size is only known by reading


@dataclass
class ScriptedServer:
    """Answers each path with its scripted replies in turn (the last one repeats)."""

    base_url: str = ""
    script: dict[str, list[Reply]] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def hits(self, path: str) -> int:
        return sum(1 for p, _h in self.seen if p == path)


def _handler(state: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            state.seen.append((self.path, dict(self.headers.items())))
            try:
                self._answer()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up on purpose (size limit, timeout)

        def _answer(self) -> None:
            replies = state.script.get(self.path) or [Reply(404, b"missing")]
            reply = replies.pop(0) if len(replies) > 1 else replies[0]
            if reply.delay:
                time.sleep(reply.delay)
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if reply.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(reply.body), 65536):
                    part = reply.body[start:start + 65536]
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up is fine
            super().handle_error(request, client_address)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A scripted HTTP/1.1 server on a free port of 127.0.0.1."""
    state = ScriptedServer()
    with serving(_QuietServer(("127.0.0.1", 0), _handler(state))) as base_url:
        state.base_url = base_url
        yield state


class Sleeps(list[float]):
    """Records the waits a fetcher asks for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fetcher(**kwargs: Any) -> HttpFetcher:
    kwargs.setdefault("allow_private", True)
    kwargs.setdefault("sleep", Sleeps())
    return HttpFetcher(user_agent="ecoute-test/1.0 (+https://example.org/ecoute)", **kwargs)


def test_get_sends_a_descriptive_user_agent(server: ScriptedServer) -> None:
    server.script["/feed"] = [Reply(body=b"<rss/>")]
    with fetcher() as http:
        result = http.get(server.url("/feed"))
    assert result.status == 200 and result.content == b"<rss/>"
    assert server.seen[0][1]["User-Agent"] == "ecoute-test/1.0 (+https://example.org/ecoute)"


def test_retries_5xx_with_growing_jittered_backoff_then_fails_naming_the_url(
    server: ScriptedServer,
) -> None:
    server.script["/down"] = [Reply(503, b"busy")]
    sleeps = Sleeps()
    with fetcher(retries=3, backoff=0.5, sleep=sleeps) as http, \
            pytest.raises(FetchError) as caught:
        http.get(server.url("/down"))
    assert server.hits("/down") == 4
    assert len(sleeps) == 3
    assert all(0 <= s <= 0.5 * 2 ** (n + 1) for n, s in enumerate(sleeps))
    assert server.url("/down") in str(caught.value) and "HTTP 503" in str(caught.value)
    assert "next scheduled run" in str(caught.value)


def test_429_honours_retry_after_seconds(server: ScriptedServer) -> None:
    server.script["/feed"] = [Reply(429, headers={"Retry-After": "7"}), Reply(body=b"fine")]
    sleeps = Sleeps()
    with fetcher(sleep=sleeps, throttle=HostThrottle(sleep=Sleeps())) as http:
        assert http.get(server.url("/feed")).content == b"fine"
    assert sleeps == [7.0]


def test_503_honours_retry_after_http_date(server: ScriptedServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    server.script["/feed"] = [Reply(503, headers={"Retry-After": when}), Reply(body=b"fine")]
    sleeps = Sleeps()
    with fetcher(sleep=sleeps, throttle=HostThrottle(sleep=Sleeps())) as http:
        assert http.get(server.url("/feed")).content == b"fine"
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 30


def test_a_retry_after_longer_than_a_run_should_wait_fails_at_once(
    server: ScriptedServer,
) -> None:
    server.script["/feed"] = [Reply(429, headers={"Retry-After": "86400"})]
    sleeps = Sleeps()
    with fetcher(sleep=sleeps, max_retry_wait=60) as http, pytest.raises(FetchError) as caught:
        http.get(server.url("/feed"))
    assert sleeps == [] and server.hits("/feed") == 1
    assert "retry after 86400" in str(caught.value)


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now=now) == 120.0
    assert parse_retry_after("Sun, 01 Mar 2026 12:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None and parse_retry_after(None) is None


def test_read_timeout_is_retried_then_reported(server: ScriptedServer) -> None:
    server.script["/slow"] = [Reply(delay=1.0)]
    with fetcher(timeout=0.2, connect_timeout=1.0, retries=1) as http, \
            pytest.raises(FetchError) as caught:
        http.get(server.url("/slow"))
    assert server.hits("/slow") == 2
    assert "no answer in time" in str(caught.value) and server.url("/slow") in str(caught.value)


def test_timeout_then_success_recovers(server: ScriptedServer) -> None:
    server.script["/flaky"] = [Reply(delay=1.0), Reply(body=b"back")]
    with fetcher(timeout=0.3, retries=2) as http:
        assert http.get(server.url("/flaky")).content == b"back"


def test_redirects_are_followed_up_to_the_limit(server: ScriptedServer) -> None:
    server.script["/old"] = [Reply(301, headers={"Location": "/new"})]
    server.script["/new"] = [Reply(body=b"moved")]
    server.script["/loop"] = [Reply(302, headers={"Location": "/loop"})]
    with fetcher(max_redirects=3) as http:
        assert http.get(server.url("/old")).content == b"moved"
        with pytest.raises(FetchError, match="more than 3 redirects"):
            http.get(server.url("/loop"))
    assert server.hits("/loop") == 4


def test_redirect_to_another_scheme_is_refused(server: ScriptedServer) -> None:
    server.script["/evil"] = [Reply(302, headers={"Location": "file:///etc/passwd"})]
    with fetcher() as http, pytest.raises(BlockedURL, match="redirected from"):
        http.get(server.url("/evil"))


def test_announced_body_over_the_limit_is_refused(server: ScriptedServer) -> None:
    server.script["/big"] = [Reply(body=b"x" * 5000)]
    with fetcher(max_bytes=4096) as http, pytest.raises(ResponseTooLarge, match="5000 bytes"):
        http.get(server.url("/big"))


def test_streamed_body_is_aborted_past_the_limit(server: ScriptedServer) -> None:
    server.script["/huge"] = [Reply(body=b"y" * 2_000_000, chunked=True)]
    with fetcher(max_bytes=100_000) as http, pytest.raises(ResponseTooLarge) as caught:
        http.get(server.url("/huge"))
    assert server.url("/huge") in str(caught.value)


def test_conditional_get_sends_validators_and_reports_not_modified(
    server: ScriptedServer,
) -> None:
    server.script["/feed"] = [Reply(304, b"")]
    with fetcher() as http:
        result = http.get(server.url("/feed"), etag='"v1"',
                          last_modified="Mon, 02 Mar 2026 10:00:00 GMT")
    assert result.not_modified
    headers = server.seen[0][1]
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Mon, 02 Mar 2026 10:00:00 GMT"


def test_http_errors_name_the_url_and_say_what_to_do(server: ScriptedServer) -> None:
    with fetcher() as http, pytest.raises(FetchError) as caught:
        http.get(server.url("/nothing-here"))
    message = str(caught.value)
    assert server.url("/nothing-here") in message and "HTTP 404" in message
    assert "check the address" in message


def test_host_throttle_spaces_requests_to_one_host() -> None:
    clock = [100.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    throttle = HostThrottle(clock=lambda: clock[0], sleep=sleep)
    waits = [throttle.wait("a.example", 2.0) for _ in range(3)]
    assert waits == [0.0, 2.0, 2.0]
    assert throttle.wait("b.example", 2.0) == 0.0  # other hosts are not held back
    throttle.push_back("b.example", 30.0)
    assert throttle.wait("b.example", 2.0) == 30.0


def test_fetcher_paces_requests_to_the_same_host(server: ScriptedServer) -> None:
    server.script["/a"] = [Reply()]
    throttle = HostThrottle()
    started = time.monotonic()
    with fetcher(host_interval=0.15, throttle=throttle) as http:
        for _ in range(3):
            http.get(server.url("/a"))
    assert time.monotonic() - started >= 0.3


ROBOTS = b"User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /private\n"


def test_crawled_pages_respect_robots_txt_fetched_once_per_host(
    server: ScriptedServer,
) -> None:
    server.script["/robots.txt"] = [Reply(body=ROBOTS)]
    server.script["/public"] = [Reply(body=b"page")]
    server.script["/private/x"] = [Reply(body=b"secret")]
    with fetcher() as http:
        assert http.get(server.url("/public"), crawl=True).content == b"page"
        with pytest.raises(RobotsDisallowed) as caught:
            http.get(server.url("/private/x"), crawl=True)
        # An address the user gave explicitly is not a crawl.
        assert http.get(server.url("/private/x")).content == b"secret"
    assert server.url("/private/x") in str(caught.value)
    assert server.hits("/robots.txt") == 1
    assert server.hits("/private/x") == 1


def test_missing_robots_allows_and_failing_robots_forbids(server: ScriptedServer) -> None:
    server.script["/page"] = [Reply(body=b"page")]
    with fetcher() as http:  # /robots.txt answers 404
        assert http.get(server.url("/page"), crawl=True).content == b"page"
    server.script["/robots.txt"] = [Reply(500)]
    with fetcher(retries=0) as http, pytest.raises(RobotsDisallowed):
        http.get(server.url("/page"), crawl=True)


def test_robots_policy_is_cached_for_its_ttl() -> None:
    calls: list[str] = []

    def fetch(url: str) -> tuple[int, bytes]:
        calls.append(url)
        return 200, b"User-agent: *\nCrawl-delay: 3\nDisallow: /x\n"

    policy = RobotsPolicy("ecoute/1.0")
    rules = policy.rules_for("https://a.example", fetch)
    policy.rules_for("https://a.example", fetch)
    assert calls == ["https://a.example/robots.txt"]
    assert not policy.allowed(rules, "https://a.example/x/1")
    assert policy.crawl_delay(rules) == 3.0


# --- the address guard ------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "169.254.169.254", "::1",
    "fd00:ec2::254", "fe80::1", "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1", "224.0.0.1",
])
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(address)


def test_public_addresses() -> None:
    assert is_public_address("93.184.216.34") and is_public_address("2606:4700::1111")


def test_loopback_server_is_refused_without_the_setting(server: ScriptedServer) -> None:
    server.script["/feed"] = [Reply()]
    with fetcher(allow_private=False) as http, pytest.raises(BlockedURL) as caught:
        http.get(server.url("/feed"))
    assert "non-public address 127.0.0.1" in str(caught.value)
    assert "ECOUTE_HTTP_ALLOW_PRIVATE" in str(caught.value)
    assert server.seen == []  # refused before connecting


def _resolver(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> None:
    """getaddrinfo answering from ``answers`` (one list of addresses per successive call)."""

    def fake(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        queue = answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
             (a, port)) for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_public_name_resolving_to_a_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _resolver(monkeypatch, {"feeds.example.org": [["93.184.216.34", "169.254.169.254"]]})
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))
    with fetcher(allow_private=False, transport=transport) as http, \
            pytest.raises(BlockedURL, match="169.254.169.254"):
        http.get("https://feeds.example.org/rss")
    assert seen == []


def test_the_checked_address_is_the_one_connected_to(monkeypatch: pytest.MonkeyPatch) -> None:
    # DNS rebinding: the first answer is public, any later one points inside.
    _resolver(monkeypatch, {"feeds.example.org": [["93.184.216.34"], ["127.0.0.1"]]})
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"<rss/>")

    with fetcher(allow_private=False, transport=httpx.MockTransport(answer)) as http:
        result = http.get("https://feeds.example.org/rss")
    assert result.content == b"<rss/>" and result.url == "https://feeds.example.org/rss"
    (request,) = seen
    assert request.url.host == "93.184.216.34"  # pinned: no second lookup
    assert request.headers["Host"] == "feeds.example.org"
    assert request.extensions["sni_hostname"] == "feeds.example.org"  # TLS checks the name


def test_each_redirect_hop_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolver(monkeypatch, {"feeds.example.org": [["93.184.216.34"]],
                            "internal.example.org": [["10.0.0.7"]]})

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://internal.example.org/admin"})

    with fetcher(allow_private=False, transport=httpx.MockTransport(answer)) as http, \
            pytest.raises(BlockedURL, match="internal.example.org.*10.0.0.7"):
        http.get("https://feeds.example.org/rss")


def test_unknown_host_is_a_fetch_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with fetcher(allow_private=False) as http, pytest.raises(FetchError) as caught:
        http.get("https://no-such-host.example/feed")
    assert "no-such-host.example" in str(caught.value) and "not found" in str(caught.value)
