"""A real HTTP receiver for notices (rescue's and maintenance's, core/notify.py), in a thread: it records
every POST (header key, body) and can be told to refuse (HTTP 503) or to hold requests, to test retries and
a worker stopped mid-delivery."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class WebhookReceiver:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []  # (Idempotency-Key header, JSON body)
        self.refuse = 0  # answer 503 to this many next requests
        self.hold = threading.Event()  # set: requests wait (up to 30 s) until released
        self.held = threading.Event()  # set once a request is being held
        self.release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if receiver.hold.is_set():
                    receiver.held.set()
                    receiver.release.wait(30)
                    return  # no answer: the connection just closes
                with receiver._lock:
                    refused = receiver.refuse > 0
                    receiver.refuse -= refused
                    if not refused:
                        receiver.posts.append((self.headers.get("Idempotency-Key", ""), body))
                self.send_response(503 if refused else 204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        # a short poll: shutdown() waits for one, and every notice test stops a receiver
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def keys(self) -> Counter[str]:
        """How many times each idempotency key was taken (2xx)."""
        with self._lock:
            return Counter(key for key, _ in self.posts)

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [body for _, body in self.posts]
