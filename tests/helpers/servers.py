"""A real HTTP server on 127.0.0.1 serving recorded files, with ETag/Last-Modified support."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers.local_http import serving


@dataclass
class FileServer:
    root: Path
    base_url: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    #: path → (status, headers, body) answered instead of a file
    overrides: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"


def _handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            server.requests.append((self.path, dict(self.headers.items())))
            if self.path in server.overrides:
                status, headers, body = server.overrides[self.path]
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            path = (server.root / self.path.split("?", 1)[0].lstrip("/")).resolve()
            if server.root.resolve() not in path.parents or not path.is_file():
                self.send_error(404)
                return
            body = path.read_bytes()
            etag = '"' + hashlib.sha1(body).hexdigest() + '"'
            modified = formatdate(path.stat().st_mtime, usegmt=True)
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[FileServer]:
    """Serves ``tmp_path/www`` on a free port of 127.0.0.1 (put files there, then fetch)."""
    root = tmp_path / "www"
    root.mkdir()
    state = FileServer(root=root)
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))) as base_url:
        state.base_url = base_url
        yield state
