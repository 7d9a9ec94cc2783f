"""Telling people: an interface with a log sink and a webhook sink (SMS, WeCom or the 110/119 link sit
behind a webhook)."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict
from typing import Protocol

from liftwatch.rescue.service import Notice

log = logging.getLogger("liftwatch.rescue")


class Notifier(Protocol):
    def send(self, notices: Sequence[Notice]) -> None: ...


class LogNotifier:
    def __init__(self) -> None:
        self.sent: list[Notice] = []

    def send(self, notices: Sequence[Notice]) -> None:
        for n in notices:
            log.info(
                "rescue %s: incident %d %s %s %s",
                n.kind,
                n.incident_id,
                n.level,
                n.registration_code,
                n.details,
            )
            self.sent.append(n)


class WebhookNotifier:
    """POSTs each batch as JSON to a URL; a failure is logged (the incident itself is already stored)."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def send(self, notices: Sequence[Notice]) -> None:
        if not notices:
            return
        body = json.dumps([asdict(n) for n in notices], ensure_ascii=False).encode()
        req = urllib.request.Request(self.url, body, {"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s):
                pass
        except OSError as exc:
            log.warning("webhook %s failed: %s", self.url, exc)


class FanOut:
    def __init__(self, *sinks: Notifier) -> None:
        self.sinks = sinks

    def send(self, notices: Sequence[Notice]) -> None:
        for sink in self.sinks:
            sink.send(notices)
