"""A test's own HTTP server on 127.0.0.1, run in a thread for as long as a fixture needs it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import HTTPServer


@contextmanager
def serving(httpd: HTTPServer) -> Iterator[str]:
    """Serves ``httpd`` (bound to a port of 127.0.0.1) from a thread and yields its base URL,
    ``http://127.0.0.1:PORT``; shut down and closed after."""
    # A short poll interval: shutdown() waits for the next poll, at every test's teardown.
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
