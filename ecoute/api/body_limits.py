"""Request bodies bounded while they arrive.

FastAPI parses a multipart upload whole before the endpoint runs, so a size check in the
endpoint comes after a 150 MB body was received and spooled. This ASGI middleware refuses a
body over its route's limit from the ``Content-Length`` it announces, or, for a body sent
without one (chunked), as soon as the bytes received pass the limit: nothing more is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecoute.api.errors import error_body
from ecoute.config.settings import Settings

#: (path pattern, the limit of that route from the settings, the setting's variable)
_ROUTES: tuple[tuple[re.Pattern[str], Callable[[Settings], int], str], ...] = (
    (re.compile(r"/api/v1/ingest/?"), lambda s: s.ingest_max_bytes, "ECOUTE_INGEST_MAX_BYTES"),
    # The multipart envelope around the file (boundaries, headers, small fields) is allowed
    # on top of the file's own limit, which ``save_upload`` checks exactly.
    (re.compile(r"/api/v1/sources/[^/]+/upload/?"),
     lambda s: s.upload_max_bytes + 1_000_000, "ECOUTE_UPLOAD_MAX_BYTES"),
)


class _BodyTooLarge(Exception):
    """Raised into the application from ``receive`` to stop it reading."""


class BodySizeLimit:
    """Answer 413 to a body over its route's limit without reading the rest of it."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def _limit(self, path: str) -> tuple[int, str] | None:
        for pattern, limit, variable in _ROUTES:
            if pattern.fullmatch(path):
                return limit(self.settings), variable
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rule = self._limit(scope.get("path", "")) if scope["type"] == "http" else None
        if rule is None:
            await self.app(scope, receive, send)
            return
        limit, variable = rule
        declared = dict(scope.get("headers") or []).get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, f"the request announces {declared} bytes, the limit is {limit}",
                          variable)
            return
        received, exceeded, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the application makes of a cut body, the answer is ours
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            # The application may wrap our signal in its own error (a form parser does);
            # anything else is a real failure and goes on up.
            if not exceeded:
                raise
        if exceeded and not started:
            await _refuse(send, f"the body is larger than {limit} bytes", variable)


async def _refuse(send: Send, detail: str, variable: str) -> None:
    body = json.dumps(error_body("PayloadTooLarge", detail,
                                 f"send smaller batches or files, or raise {variable}")).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
