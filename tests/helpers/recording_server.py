"""Recording HTTP servers on 127.0.0.1: scripted answers per path, received headers kept.

Two of them listen on two ports, so two origins: enough to see what a client sends to a host
it was redirected or linked to.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class RecordingServer:
    """Answers each path with a scripted (status, headers, body) and records what it got."""

    base_url: str = ""
    script: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    received: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def headers_of(self, path: str) -> list[dict[str, str]]:
        return [{k.lower(): v for k, v in h.items()} for p, h in self.received
                if p.split("?")[0] == path]


def serve(state: RecordingServer) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            state.received.append((self.path, dict(self.headers.items())))
            status, headers, body = state.script.get(self.path.split("?")[0],
                                                     (404, {}, b"missing"))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return httpd


@pytest.fixture
def two_origins() -> Iterator[tuple[RecordingServer, RecordingServer]]:
    """Two recording servers on two ports of 127.0.0.1: two origins."""
    first, second = RecordingServer(), RecordingServer()
    servers = [serve(first), serve(second)]
    yield first, second
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()
