"""Server-side request forgery and credential leaks: address forms, DNS answers that change
between the check and the connection, and redirects or pagination links to another origin
(two real servers on 127.0.0.1, different ports, so different origins)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecoute.collectors.http.client import HttpFetcher
from ecoute.collectors.http.guard import is_credential_header, is_public_address, same_origin
from ecoute.collectors.kinds.mastodon import MastodonCollector
from ecoute.errors import BlockedURL
from tests.helpers.collect import collect_all
from tests.helpers.recording_server import RecordingServer

CREDENTIALS = {"Authorization": "Bearer planted-token-1", "Cookie": "session=planted-cookie-2",
               "X-Api-Key": "planted-key-3", "Api-Key": "planted-key-4"}


def fetcher(**kwargs: Any) -> HttpFetcher:
    kwargs.setdefault("allow_private", True)
    return HttpFetcher(retries=0, sleep=lambda s: None, **kwargs)


# --- credentials and origins --------------------------------------------------------------


def test_credentials_are_dropped_on_a_redirect_to_another_origin(
    two_origins: tuple[RecordingServer, RecordingServer],
) -> None:
    home, other = two_origins
    home.script["/start"] = (302, {"Location": home.url("/same")}, b"")
    home.script["/same"] = (302, {"Location": other.url("/elsewhere")}, b"")
    other.script["/elsewhere"] = (302, {"Location": home.url("/back")}, b"")
    home.script["/back"] = (200, {}, b"done")
    with fetcher() as http:
        result = http.get(home.url("/start"), headers={**CREDENTIALS, "X-Trace": "kept"})
    assert result.content == b"done"
    (same,) = home.headers_of("/same")
    assert same["authorization"] == "Bearer planted-token-1"  # same origin: still sent
    (elsewhere,) = other.headers_of("/elsewhere")
    (back,) = home.headers_of("/back")
    for received in (elsewhere, back):  # once dropped, never sent again on this request
        assert received["x-trace"] == "kept"
        assert not {"authorization", "cookie", "x-api-key", "api-key"} & set(received)
    everything = repr(other.received)
    assert not any(secret.split("=")[-1].split()[-1] in everything
                   for secret in CREDENTIALS.values())


def test_mastodon_refuses_a_next_page_on_another_server(
    two_origins: tuple[RecordingServer, RecordingServer], tmp_path: Path,
) -> None:
    instance, other = two_origins
    status = {"id": "10", "content": "<p>Accueil parfait</p>", "created_at":
              "2026-01-01T10:00:00Z", "account": {"acct": "a"}, "url": "https://m/x/10",
              "language": "fr"}
    instance.script["/api/v1/notifications"] = (
        200, {"Link": f'<{other.url("/api/v1/notifications?max_id=10")}>; rel="next"'},
        json.dumps([{"id": "10", "type": "mention", "status": status}]).encode())
    other.script["/api/v1/notifications"] = (200, {}, b"[]")
    collector = MastodonCollector(MastodonCollector.Options(
        instance=instance.base_url, mentions=True, access_token="planted-token-5"))
    items, rejected, _ = collect_all(collector, tmp=tmp_path)
    assert [i.text for i in items] == ["Accueil parfait"]
    assert other.received == []  # the token never left for the other server
    (refusal,) = rejected
    assert refusal.error_class == "BlockedURL" and "another server" in refusal.reason
    assert instance.headers_of("/api/v1/notifications")[0]["authorization"] == \
        "Bearer planted-token-5"


def test_origin_and_credential_header_rules() -> None:
    assert same_origin("https://a.example/x", "https://A.example:443/y")
    assert not same_origin("https://a.example/x", "http://a.example/x")
    assert not same_origin("http://127.0.0.1:8000/", "http://127.0.0.1:8001/")
    assert not same_origin("https://a.example/", "https://a.example.evil.test/")
    for name in ("Authorization", "cookie", "Proxy-Authorization", "X-Api-Key", "X-Auth-Token",
                 "api-key"):
        assert is_credential_header(name)
    for name in ("User-Agent", "Accept", "If-None-Match", "X-Trace"):
        assert not is_credential_header(name)


# --- address forms ------------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "::127.0.0.1", "::10.0.0.1", "::169.254.169.254",  # IPv4-compatible
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::c0a8:101", "64:ff9b:1::a00:1",  # NAT64
    "2002:7f00:1::1", "2002:a00:1::",  # 6to4
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "::ffff:10.0.0.1", "fd00:ec2::254",
])
def test_private_addresses_written_as_ipv6_are_refused(address: str) -> None:
    assert not is_public_address(address)


def test_nat64_of_a_public_address_stays_public() -> None:
    assert is_public_address("64:ff9b::808:808") and is_public_address("2002:808:808::1")


@pytest.mark.parametrize("host", ["0177.0.0.1", "0x7f.0.0.1", "2130706433", "127.1",
                                  "0177.0.0.01", "012.0.0.1"])
def test_unusual_ipv4_forms_get_the_guard_message_not_a_traceback(host: str) -> None:
    with fetcher(allow_private=False) as http:
        with pytest.raises(BlockedURL, match="non-public address") as caught:
            http.get(f"http://{host}/feed")
        assert "ECOUTE_HTTP_ALLOW_PRIVATE" in str(caught.value)
        with pytest.raises(BlockedURL, match="non-public address"):
            http.check_url(f"http://{host}:8080/feed")


def test_unusual_ipv4_form_is_refused_even_when_private_addresses_are_allowed() -> None:
    with fetcher(allow_private=True) as http, pytest.raises(BlockedURL, match="written another"):
        http.get("http://0177.0.0.1:1/feed")


def test_a_public_address_in_octal_is_refused_with_its_usual_form() -> None:
    with fetcher(allow_private=False) as http, pytest.raises(BlockedURL, match="8.8.8.8"):
        http.get("http://010.010.010.010/feed")


# --- DNS answers that change --------------------------------------------------------------


def _resolver(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """getaddrinfo answering from ``answers`` (one list per successive call); returns the log
    of the hosts asked."""
    asked: list[str] = []

    def fake(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        queue = answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


def test_a_name_checked_public_at_creation_then_rebound_inside_is_refused_at_fetch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Checked when the source is added (public), then the DNS answer moves to loopback.
    _resolver(monkeypatch, {"feeds.example.org": [["93.184.216.34"], ["127.0.0.1"]]})
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))
    with fetcher(allow_private=False, transport=transport) as http:
        http.check_url("https://feeds.example.org/rss")
        with pytest.raises(BlockedURL, match="127.0.0.1"):
            http.get("https://feeds.example.org/rss")
    assert seen == []


def test_rebinding_to_nat64_loopback_between_hops_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _resolver(monkeypatch, {"feeds.example.org": [["93.184.216.34"], ["64:ff9b::7f00:1"]]})
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "https://feeds.example.org/next"})

    with fetcher(allow_private=False, transport=httpx.MockTransport(answer)) as http, \
            pytest.raises(BlockedURL, match="64:ff9b::7f00:1"):
        http.get("https://feeds.example.org/rss")
    assert [r.url.host for r in seen] == ["93.184.216.34"]  # the second hop never connected
