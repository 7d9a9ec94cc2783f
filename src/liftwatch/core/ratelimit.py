"""A rate limit on the public's requests: per client address, for requests that carry no credentials.

The passenger pages (the car's code page, complaints, the public lists of ratings, supervised rectification
and costs) and their API reads need no account, so nothing else stops one address from scraping them or
hammering the database behind them. A request with an ``Authorization`` header or the session cookie is
left to its own account's limits (the sign-in throttle, the gateway's API key); static files and the probes
are never counted. Over the limit the answer is 429 with ``Retry-After``: the API's error shape under
``/api/``, a short page in Chinese and English elsewhere. In-process: each web process keeps its own
windows, so N processes let an address through N times the limit (stated in docs/OPERATIONS.md).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["PublicRateLimitMiddleware", "SlidingWindow"]

#: never counted: assets the pages load, and what monitoring polls
EXEMPT_PREFIXES = ("/static/", "/healthz", "/readyz", "/metrics", "/favicon")
MAX_KEYS = 50_000


class SlidingWindow:
    """At most ``limit`` hits per key in any ``window_s`` seconds, for the most recently used ``max_keys``
    keys (older keys forgotten: memory stays bounded whatever the number of addresses). Thread-safe."""

    def __init__(self, limit: int, window_s: float, max_keys: int = MAX_KEYS) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("a sliding window needs limit >= 1 and a positive window")
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, now: float) -> float | None:
        """Count a hit of ``key`` at ``now`` (seconds) and return None, or, when the key already has
        ``limit`` hits in the window, count nothing and return the seconds until it may try again."""
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque(maxlen=self.limit)
                if len(self._hits) > self.max_keys:
                    self._hits.popitem(last=False)
            else:
                self._hits.move_to_end(key)
            if len(hits) == self.limit:
                wait = hits[0] + self.window_s - now
                if wait > 0:
                    return wait
            hits.append(now)
            return None


class PublicRateLimitMiddleware:
    """Answer 429 to an address that sends more than ``per_minute`` requests without credentials in a
    minute (module docstring). ``per_minute`` 0 turns the limit off."""

    def __init__(
        self,
        app: ASGIApp,
        per_minute: int,
        cookie_name: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.window = SlidingWindow(per_minute, 60.0) if per_minute > 0 else None
        self.cookie = cookie_name.encode("latin-1") + b"="
        self.clock = clock
        self.refused = 0

    def _anonymous(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                return False
            if name == b"cookie" and self.cookie in value:
                return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            self.window is None
            or scope["type"] != "http"
            or path.startswith(EXEMPT_PREFIXES)
            or not self._anonymous(scope)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        wait = self.window.hit(address, self.clock())
        if wait is None:
            await self.app(scope, receive, send)
            return
        self.refused += 1
        retry = max(1, math.ceil(wait))
        if path.startswith("/api/"):
            body = json.dumps(
                {
                    "detail": f"too many requests from this address: try again in {retry} s",
                    "errors": [],
                }
            ).encode()
            kind = b"application/json"
        else:
            body = (
                "<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>429</title>"
                f"<p>请求过于频繁，请 {retry} 秒后再试。</p>"
                f"<p lang='en'>Too many requests from this address: try again in {retry} s.</p></html>"
            ).encode()
            kind = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", kind),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
