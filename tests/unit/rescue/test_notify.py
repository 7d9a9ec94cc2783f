"""Notifier sinks: the log keeps what it sent; the webhook POSTs JSON and survives a dead endpoint."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from liftwatch.rescue.notify import FanOut, LogNotifier, WebhookNotifier
from liftwatch.rescue.service import Notice

NOTICES = [Notice(7, "escalated", "L2", "11SHA000001", {"reason": "no_acknowledgement"})]


def test_webhook_posts_json_and_log_keeps_it() -> None:
    received: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Content-Type"], json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        log = LogNotifier()
        FanOut(log, WebhookNotifier(f"http://127.0.0.1:{server.server_port}/hook")).send(NOTICES)
    finally:
        server.shutdown()
    assert log.sent == NOTICES
    assert received == [
        (
            "application/json",
            [
                {
                    "incident_id": 7,
                    "kind": "escalated",
                    "level": "L2",
                    "registration_code": "11SHA000001",
                    "details": {"reason": "no_acknowledgement"},
                }
            ],
        )
    ]


def test_a_dead_webhook_does_not_raise() -> None:
    WebhookNotifier("http://127.0.0.1:9/nowhere", timeout_s=0.5).send(NOTICES)
    WebhookNotifier("http://127.0.0.1:9/nowhere").send([])  # nothing to send: no request at all
