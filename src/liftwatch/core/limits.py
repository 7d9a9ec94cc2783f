"""Request body size limits, enforced while the body is read and before any route (or authentication)
sees it.

FastAPI parses a route's body before it resolves the dependencies that authenticate the caller, so
without a limit an anonymous client could make the process hold (JSON) or spool to disk (multipart) any
amount. This pure ASGI middleware refuses a declared ``Content-Length`` over the limit at once and counts
the bytes of a body sent without one (chunked) as they arrive, answering 413 once over; it never buffers
the body itself.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liftwatch.core.config import Settings

MIB = 1024 * 1024


@dataclass(frozen=True)
class BodyLimit:
    """The largest body of requests with this method whose path is ``path`` (exactly)."""

    method: str
    path: str
    max_bytes: int


def body_limits(settings: Settings) -> tuple[int, list[BodyLimit]]:
    """The default limit and the larger ones of the routes that take big bodies: the gateway's batch
    (telemetry.api.MAX_BODY) and the registry import (an agency's workbook)."""
    return int(settings.max_body_mb * MIB), [
        BodyLimit("POST", "/api/v1/telemetry", int(settings.telemetry_max_body_mb * MIB)),
        BodyLimit("POST", "/api/v1/registry/import", int(settings.import_max_body_mb * MIB)),
        # a photo and its multipart envelope; the photo's own limit (413 naming the field) is the service's
        BodyLimit("POST", "/api/v1/maintenance/attachments", int((settings.upload_max_mb + 1) * MIB)),
        BodyLimit("POST", "/maintenance/photos", int((settings.upload_max_mb + 1) * MIB)),  # the phone page's
    ]


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a streamed body passes its limit, to stop whoever is reading it."""


def _describe(limit: int) -> str:
    return f"{limit / MIB:g} MiB" if limit >= MIB else f"{limit} bytes"


class BodyLimitMiddleware:
    """Answer 413 in the API's error shape when a request body is larger than its path allows."""

    def __init__(self, app: ASGIApp, default: int, limits: Sequence[BodyLimit] = ()) -> None:
        self.app = app
        self.default = default
        self.limits = {(rule.method, rule.path): rule.max_bytes for rule in limits}

    def limit_for(self, method: str, path: str) -> int:
        return self.limits.get((method, path.rstrip("/") or "/"), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit, f"{declared} bytes declared")
            return

        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # The route turned the aborted read into some other error (FastAPI answers a failed body
                # parse with 400); the caller must hear what really happened instead.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _refuse(send, limit, f"more than {received} bytes sent")
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(BodyTooLarge):  # the answer is the 413 below
            await self.app(scope, counting_receive, guarded_send)
        if exceeded and not started:
            await _refuse(send, limit, f"more than {received} bytes sent")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # counted while streaming instead
    return None


async def _refuse(send: Send, limit: int, what: str) -> None:
    """413 in the error shape of every API answer; the connection is closed, as the rest of the body
    is never read."""
    message = f"request body too large ({what}); at most {_describe(limit)} on this path"
    payload = json.dumps(
        {"detail": message, "errors": [{"field": "body", "message": message}]}, ensure_ascii=False
    ).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
