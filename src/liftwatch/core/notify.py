"""How a notice leaves: a webhook POST (SMS, WeCom, the 110/119 link or a maintenance unit's or regulator's
system sit behind it) and the wait before the next try. Generic: the one delivery loop (core/outbox.py)
claims a domain's due rows, has the domain build the JSON and log it in its own words, then sends it
(:class:`Sender`) after the change a notice tells of was committed, and keeps a failed one for its next
try."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


class DeliveryFailed(Exception):
    """The receiver did not take the notice (no answer, or not a 2xx): try again later."""


class Webhook:
    """POSTs one notice as a JSON object, its idempotency key in the ``Idempotency-Key`` header (the receiver
    drops repeats by it); only a 2xx answer counts as delivered."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def send(self, payload: dict[str, Any], key: str) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key}
        req = urllib.request.Request(self.url, body, headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(f"webhook answered {exc.code}") from None
        except (OSError, ValueError) as exc:  # refused, timed out, unreachable, bad URL
            raise DeliveryFailed(f"webhook unreachable: {exc}") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"webhook answered {status}")


def retry_delay_s(first_s: float, max_s: float, attempts: int) -> float:
    """Wait after the ``attempts``-th failed attempt (1, 2, ...): ``first_s`` doubling, at most ``max_s``."""
    return float(min(max_s, first_s * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Failure:
    """A failed attempt: what the notice's row keeps (its failed ``attempts`` so far, the error, when to try
    next), so it is retried and never dropped."""

    attempts: int
    error: str
    wait_s: float
    next_attempt_at: datetime


class Sender:
    """A domain's webhook (none when its URL setting is empty: the log only) with its capped backoff."""

    def __init__(self, url: str, timeout_s: float, retry_s: float, retry_max_s: float) -> None:
        self.webhook = Webhook(url, timeout_s) if url else None
        self.retry_s = retry_s
        self.retry_max_s = retry_max_s

    def attempt(self, payload: dict[str, Any], key: str, attempts: int, now: datetime) -> Failure | None:
        """Send one notice that failed ``attempts`` times so far; None when it was taken (or there is no
        webhook), else the failure with the next try."""
        if self.webhook is None:
            return None
        try:
            self.webhook.send(payload, key)
        except DeliveryFailed as exc:
            wait = retry_delay_s(self.retry_s, self.retry_max_s, attempts + 1)
            return Failure(attempts + 1, str(exc), wait, now + timedelta(seconds=wait))
        return None
